"""The ingestion door for facts that arrive all day: micro-batches dropped into a watched folder.

A batch is a folder of `<table>.csv` / `.parquet` files named after the raw contract's tables, the files
`tags load` takes. Write it beside the inbox and move it in when complete (a rename is atomic, so the
sensor never sees half a batch); folders whose name starts with "." are not batches yet. The `raw_inbox`
sensor (every 30 s; off unless INBOX_SENSOR=on, like the nightly schedule) launches one `load_inbox_batch`
run per batch, oldest name first. The run loads it with the loader of `tags load`: the same checks, all or
nothing, under the warehouse's refresh lock. Then the folder moves to `loaded/`, or, refused, to
`rejected/` beside an `error.txt` that names what is wrong and where, and the run fails with an alert.
A refresh holding the lock makes the run wait and try again (every minute, for an hour); so does a
warehouse that does not answer. The rows are then raw rows like any other: the next refresh stages them.
"""

# No `from __future__ import annotations`: Dagster reads the op's config annotation when the op is defined.
import shutil
from pathlib import Path

import dagster as dg

from orchestration import alerts, settings
from orchestration.dagster import hooks
from orchestration.dagster.resources import WarehouseResource
from orchestration.warehouse import db, loader, refresh_lock

JOB_NAME = "load_inbox_batch"
SWITCH_VARIABLE = "INBOX_SENSOR"
LOADED, REJECTED = "loaded", "rejected"
WAIT_SECONDS, WAITS = 60, 60  # a refresh holds the lock for minutes: wait up to an hour


def pending_batches(inbox: Path) -> list[Path]:
    """The complete batches waiting in the inbox, oldest name first."""
    if not inbox.is_dir():
        return []
    return sorted(p for p in inbox.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and p.name not in (LOADED, REJECTED))


def _move(batch: Path, to: str) -> Path:
    """Move the batch into inbox/<to>/, under a new name if one of that name is there already."""
    folder = batch.parent / to
    folder.mkdir(exist_ok=True)
    target, n = folder / batch.name, 1
    while target.exists():
        target, n = folder / f"{batch.name}.{n}", n + 1
    return Path(shutil.move(str(batch), str(target)))


class BatchConfig(dg.Config):
    batch: str  # the folder's path


@dg.op(description="Load one micro-batch folder into raw (the loader of `tags load`), then move it to loaded/ or rejected/.")
def load_batch(context: dg.OpExecutionContext, config: BatchConfig, warehouse: WarehouseResource) -> dg.Output:
    batch = Path(config.batch)
    if not batch.is_dir():
        raise dg.Failure(description=f"batch {batch} is not in the inbox any more (moved by hand, or loaded by an earlier run)")
    client = warehouse.client(context)
    try:
        appended = loader.load(client, batch, progress=context.log.info)
    except (refresh_lock.RefreshRunning, db.WarehouseUnreachable) as exc:  # not the batch's fault: try again later
        if context.retry_number >= WAITS:
            raise dg.Failure(description=f"batch {batch.name} waited {WAITS} minutes and was not loaded: {exc}") from exc
        context.log.info(f"batch {batch.name} waits: {exc}")
        raise dg.RetryRequested(max_retries=WAITS, seconds_to_wait=WAIT_SECONDS) from exc
    except (loader.LoadError, ValueError, OSError) as exc:  # the batch itself is wrong: nothing of it was loaded
        moved = _move(batch, REJECTED)
        (moved.parent / f"{moved.name}.error.txt").write_text(f"nothing of {batch.name} was loaded: {exc}\n")
        hooks.tell(context.log, alerts.Alert(subject=f"customer tags: micro-batch {batch.name} was refused",
                                             lines=[str(exc), f"moved to {moved}"], run_id=context.run_id))
        raise dg.Failure(description=f"batch {batch.name} was not loaded: {exc}; moved to {moved}") from exc
    moved = _move(batch, LOADED)
    return dg.Output(appended, metadata={"batch": batch.name, "rows": sum(appended.values()),
                                         **{f"raw.{table}": rows for table, rows in appended.items()},
                                         "moved_to": str(moved)})


@dg.job(name=JOB_NAME, executor_def=dg.in_process_executor,
        description="One micro-batch of the inbox into raw, checked like `tags load` (orchestration/dagster/inbox.py).")
def load_inbox_batch():
    load_batch()


def inbox_sensor() -> dg.SensorDefinition:
    status = dg.DefaultSensorStatus.RUNNING if settings.switched_on(SWITCH_VARIABLE) else dg.DefaultSensorStatus.STOPPED

    @dg.sensor(job=load_inbox_batch, minimum_interval_seconds=30, default_status=status,
               description="Launches a load of every complete batch in the inbox (TAGS_INBOX, default inbox/).")
    def raw_inbox(context: dg.SensorEvaluationContext):
        batches = pending_batches(settings.inbox_dir())
        if not batches:
            return dg.SkipReason(f"no batch in {settings.inbox_dir()}")
        # one run per batch and content: a batch put back after a fix is a new run
        return [dg.RunRequest(run_key=f"{b.name}:{b.stat().st_mtime_ns}",
                              run_config={"ops": {"load_batch": {"config": {"batch": str(b)}}}}) for b in batches]

    return raw_inbox
