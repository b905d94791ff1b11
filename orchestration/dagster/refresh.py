"""`tags refresh`: the nightly Dagster job, run in this process, and what it did.

The same job the schedule runs (orchestration/dagster/definitions.py), so a refresh from the command
line is checked and published exactly like a nightly one. Before the job: the catalog is
validated and the generated dbt files synced (and the project re-parsed if they changed).
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from dataclasses import dataclass, field

from orchestration import relations, settings
from orchestration.relations import relation
from orchestration.catalog import catalog, catalog_sync
from orchestration.dagster import dbt_runner
from orchestration.settings import PROJECT_DIR


@dataclass(frozen=True)
class CheckOutcome:
    asset: str
    check: str
    passed: bool
    blocking: bool
    metadata: dict


@dataclass(frozen=True)
class RefreshOutcome:
    run_id: str
    success: bool
    failures: list[str] = field(default_factory=list)  # step: message
    checks: list[CheckOutcome] = field(default_factory=list)
    published: bool = False
    backfill: bool = False  # published into the history only: an as_of before the current one
    held: list[str] = field(default_factory=list)  # tags kept at their last published values (holds.py)


def selectors(select: list[str] | None, rows: list[catalog.CatalogRow]) -> list[str] | None:
    """dbt selectors for `--select`: a catalog tag key means that tag's model, everything built from it
    (the outputs and audiences), the catalog and audience seeds with the run's copy of the audiences,
    the run's bitmap of all customers (audiences' `not`)
    and the accuracy sample (so its check compares with this rule);
    anything else is passed to dbt as written."""
    if not select:
        return None
    keys = {r.tag_key for r in catalog_sync.built(rows)}
    chosen = [f"{catalog_sync.model_name(s)}+" if s in keys else s for s in select]
    if not any(s in keys for s in select):
        return chosen
    return ["tag_catalog", "audiences", "audience_catalog_snapshots", "customer_bitmap_snapshots", *chosen,
            "accuracy_sample_customers+"]


def prepare(rows: list[catalog.CatalogRow], as_of: dt.date) -> list[str]:
    """Sync the generated files; re-parse the dbt project when they changed, or when any project file is newer
    than the manifest (the tag models build from the meta it holds). Returns the changes."""
    changes = catalog_sync.sync(rows)
    if changes or _manifest_is_stale():
        dbt_runner.run("parse", as_of)
        relations.reload()
    return changes


def _manifest_is_stale() -> bool:
    if not relations.MANIFEST.exists():
        return True
    parsed = relations.MANIFEST.stat().st_mtime
    project = [PROJECT_DIR / "dbt_project.yml", *(p for folder in ("models", "macros", "seeds")
                                                 for p in (PROJECT_DIR / folder).rglob("*") if p.is_file())]
    return any(path.stat().st_mtime > parsed for path in project)


def run(as_of: dt.date, select: list[str] | None, rows: list[catalog.CatalogRow], full: bool = False,
        make_current: bool = False, cutoff: dt.datetime | None = None) -> RefreshOutcome:
    """One partition of the nightly job, in this process; cutoff: the instant it is evaluated at (none: the end of
    the as_of day, partitions.cutoff_of)."""
    # imported here: loading the Definitions reads the manifest prepare() may just have rewritten
    import dagster as dg
    from dagster_dbt import build_dbt_asset_selection

    from orchestration.dagster.assets import FULL_REFRESH_TAG, MAKE_CURRENT_TAG, dbt_models
    from orchestration.dagster.definitions import defs
    from orchestration.dagster.partitions import CUTOFF_FORMAT, CUTOFF_TAG, partition_key
    from orchestration.dagster.schedules import JOB_NAME

    asset_selection = None
    dbt_select = selectors(select, rows)
    if dbt_select:
        chosen = build_dbt_asset_selection([dbt_models], dbt_select=" ".join(dbt_select))
        graph = defs.get_repository_def().asset_graph
        asset_selection = list((chosen | dg.AssetSelection.assets("published_tags")).resolve(graph))
    tags = {FULL_REFRESH_TAG: str(full).lower(), MAKE_CURRENT_TAG: str(make_current).lower()} \
        | ({CUTOFF_TAG: cutoff.strftime(CUTOFF_FORMAT)} if cutoff else {})
    return _execute(JOB_NAME, "published_tags", partition_key(as_of), tags, asset_selection)


def run_intraday(cutoff: dt.datetime) -> tuple[dt.date, RefreshOutcome]:
    """One run of the intraday lane (orchestration/dagster/intraday.py), in this process: as of the published night,
    evaluated at cutoff. Returns that as_of and what the run did."""
    from orchestration.dagster import intraday
    from orchestration.dagster.partitions import CUTOFF_FORMAT, CUTOFF_TAG

    return _run_refining(intraday.JOB_NAME, "published_intraday_tags", {CUTOFF_TAG: cutoff.strftime(CUTOFF_FORMAT)},
                         "the intraday lane")


def run_new_tags(tag_keys: list[str]) -> tuple[dt.date, RefreshOutcome]:
    """New catalog rows built alone onto the published night (orchestration/dagster/new_tags.py), in this process.
    Returns the night's as_of and what the run did."""
    from orchestration.dagster import new_tags

    return _run_refining(new_tags.JOB_NAME, "published_new_tags", {new_tags.KEYS_TAG: ",".join(tag_keys)},
                         "a run of new tags")


def _run_refining(job_name: str, published_asset: str, tags: dict[str, str], what: str) -> tuple[dt.date, RefreshOutcome]:
    """A run that refines the published night, as of its as_of; the quality checks are dbt tests of its one dbt step,
    not asset checks: their outcomes as recorded."""
    from orchestration.dagster.partitions import partition_key
    from orchestration.publishing import publish
    from orchestration.quality import quality
    from orchestration.warehouse import db

    current = publish.current_run(db.client())
    if current is None:
        raise ValueError(f"no night is published yet, and {what} refines it (run `tags refresh` first)")
    as_of = current[1]
    outcome = _execute(job_name, published_asset, partition_key(as_of), tags)
    checks = [CheckOutcome(f"tag_{row['tag_key']}", name, bool(row["passed"]), bool(row["blocking"]),
                           {**row, **({} if row["passed"] else {"outcome": quality.when_failed(bool(row["blocking"]), "hold_night")})})
              for name, row in sorted(quality.results(db.client(), outcome.run_id).items())]
    return as_of, RefreshOutcome(outcome.run_id, outcome.success, outcome.failures, checks, outcome.published)


def _execute(job_name: str, published_asset: str, partition: str, tags: dict[str, str],
             asset_selection=None) -> RefreshOutcome:
    """Run one partition of a job in this process, recorded in the Dagster instance; what it did."""
    import dagster as dg
    import sqlalchemy.exc  # Dagster's storage error; imported with Dagster, not at the command line's start

    from orchestration.dagster import instance as dagster_instance
    from orchestration.dagster.definitions import defs

    job = defs.resolve_job_def(job_name)
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}  # dbt prints the progress
    for name in ("dagster", "dagster.builtin"):
        logging.getLogger(name).setLevel(logging.WARNING)
    published_before = _publish_count()
    try:
        with dagster_instance.instance() as instance:  # recorded where `tags ui` shows it
            result = job.execute_in_process(run_config=quiet, instance=instance, partition_key=partition, tags=tags,
                                            asset_selection=asset_selection, raise_on_error=False)
    except (sqlalchemy.exc.OperationalError, sqlite3.OperationalError) as exc:
        # the instance's SQLite files could not be written (a full disk, most often): say so, and what BI reads
        done = "its night was published before that" if _publish_count() != published_before else "nothing was published"
        raise OSError(f"the Dagster instance at {settings.dagster_home()} could not record the run "
                      f"({getattr(exc, 'orig', None) or exc}); {done}") from exc
    failures, checks, published, backfill, held = [], [], False, False, []
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            failures.append(f"{event.step_key}: {error.message.strip() if error else 'failed'}")
        elif event.event_type == dg.DagsterEventType.RESOURCE_INIT_FAILURE:  # e.g. the refresh lock is taken
            error = getattr(event.event_specific_data, "error", None)
            failures.append(f"resources: {error.message.strip() if error else event.message}")
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            checks.append(CheckOutcome(evaluation.asset_key.to_user_string(), evaluation.check_name, evaluation.passed,
                                       evaluation.blocking, {k: v.value for k, v in evaluation.metadata.items()}))
        elif event.is_step_materialization and event.asset_key == dg.AssetKey(published_asset):
            published = True
            metadata = event.step_materialization_data.materialization.metadata
            backfill = bool(metadata["backfill"].value) if "backfill" in metadata else False
            held = [tag for tag in metadata["held_tags"].value.split(", ") if tag] if "held_tags" in metadata else []
    return RefreshOutcome(result.run_id, result.success, failures, with_check_results(result.run_id, checks),
                          published, backfill, held)


def _publish_count() -> int:
    """Rows of the publish log (none before the first build creates it): did a run publish?"""
    from orchestration.warehouse import db

    database, table = relation("publish_log").split(".")
    return int(db.client().command("SELECT toUInt64(ifNull(sum(total_rows), 0)) FROM system.tables WHERE database = %(d)s "
                                   "AND name = %(t)s", parameters={"d": database, "t": table}) or 0)


def with_check_results(run_id: str, checks: list[CheckOutcome]) -> list[CheckOutcome]:
    """The quality checks' outcomes with what quality.check_results keeps of them (tag_key, check, observed,
    expected, message, blocking and what a failure does): dbt's test events carry only pass or fail."""
    from orchestration.quality import quality
    from orchestration.warehouse import db

    if not any(c.check.startswith(quality.TEST_PREFIX) for c in checks):
        return checks  # no quality check ran (the run stopped before them)
    recorded = quality.results(db.client(), run_id)
    enriched = []
    for c in checks:
        row = recorded.get(c.check)
        if row is None:
            enriched.append(c)
            continue
        outcome = {} if row["passed"] else {"outcome": quality.when_failed(bool(row["blocking"]), row["when_blocked"])}
        enriched.append(CheckOutcome(c.asset, c.check, c.passed, bool(row["blocking"]),
                                     {**c.metadata, **{k: row[k] for k in ("tag_key", "check", "observed", "expected",
                                                                           "message", "when_blocked")}, **outcome}))
    return enriched
