"""The intraday lane: the tags whose catalog row says lane = intraday, refreshed between nights as orders and tickets load.

A run of the lane (job `intraday_refresh`) refines the published night: it is as of that night's as_of and
evaluated at its own cutoff (now: the sensor `intraday_loads` starts one when orders or tickets were loaded since
the last run; `tags refresh --intraday` by hand). dbt builds, with var
lane = intraday (macros/tags/lane.sql):
- the staging of orders and tickets, from the rows loaded since (base_orders rebuilds only the months they
  touched, and admits the facts the later cutoff now lets in);
- the state of open orders and tickets at the cutoff (customer_state_at_cutoff) and the lane's tag models, which
  read it over the night's customer_features (their other features stay the night's);
- the run's rows in the tag store for the lane's tags alone (tag_snapshots, their bitmaps, the catalog
  snapshot, the changes against the previous night), the accuracy sample's orders and state at the cutoff
  (its customers and features are the night's), the quality figures of those tags, and their quality checks:
  the dbt tests the night runs, with the same thresholds.
A failed node or blocking check publishes nothing (BI keeps what it shows) and alerts. Otherwise one row in
publish_log switches the lane's tags in tags.customer_tags, tags.customer_profile and tags.tag_bitmaps at once
(publish.publish_refinement); every other tag stays on the night's run, and the history on one run per day.
Not refreshed by the lane: customer_features and the other tags (the night's), customers registered since the
night (they have no features row until the next night).
"""

# No `from __future__ import annotations`: Dagster reads the context annotations when the assets are defined.

import datetime as dt
import os
from zoneinfo import ZoneInfo

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource

from orchestration import settings
from orchestration.catalog import catalog
from orchestration.dagster import refinement
from orchestration.dagster.assets import check_catalog, run_id_of
from orchestration.dagster.hooks import alert_on_failure
from orchestration.dagster.partitions import (AS_OF_PARTITIONS, CUTOFF_FORMAT, CUTOFF_TAG, ONE_DAY_PER_RUN,
                                              as_of_of, cutoff_of, timezone)
from orchestration.dagster.resources import RefreshLock, WarehouseResource
from orchestration.publishing import publish
from orchestration.relations import relation
from orchestration.warehouse import contract

JOB_NAME = "intraday_refresh"
GROUP = "intraday"
LANE_TAG = "lane"  # the run tag (and dbt var) naming the lane a run refreshes
SWITCH_VARIABLE = "INTRADAY_SENSOR"
INTERVAL_VARIABLE = "INTRADAY_INTERVAL_SECONDS"
DEFAULT_INTERVAL_S = 60
IN_FLIGHT = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
             dg.DagsterRunStatus.STARTED]
# The raw tables the lane's tags are computed from: a load of none of them since the last run leaves nothing to do.
RAW_TABLES = ("orders", "tickets")

# What an intraday run builds besides the lane's tag models and the store and quality models every refining run
# builds (refinement.py): the staging and state its tags read, the generated union of the lane's tags, and the
# accuracy sample's orders and their state at the cutoff. The sample keeps the night's customers and features (the
# lane's tags read the night's features too): 5 of the run's 14 engine seconds at 1 M customers went to redrawing
# the sample, its events and features, none of which the lane's rules read.
STATE_MODELS = ("base_orders", "base_tickets", "customer_state_at_cutoff")
LANE_MODELS = ("intraday_tags", "accuracy_sample_orders", "accuracy_sample_state_at_cutoff")


def lane_tags(rows: list[catalog.CatalogRow]) -> list[str]:
    """The tag keys of the intraday lane: built catalog rows with lane = intraday."""
    return sorted(r.tag_key for r in rows if r.lane == "intraday" and r.status != "archived")


def models(tag_keys: list[str]) -> set[str]:
    """The dbt models of an intraday run."""
    return {*STATE_MODELS, *LANE_MODELS, *(f"tag_{key}" for key in tag_keys), *refinement.STORE_MODELS,
            *refinement.QUALITY_MODELS}


@dg.asset(group_name=GROUP, partitions_def=AS_OF_PARTITIONS, backfill_policy=ONE_DAY_PER_RUN,
          description="The intraday lane's tags (catalog lane = intraday) at the run's cutoff, from the rows loaded "
                      "since: built, stored under the run's id and checked by the same quality tests as at night "
                      "(orchestration/dagster/intraday.py).")
def intraday_tags(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource,
                  refresh_lock: RefreshLock) -> dg.MaterializeResult:
    keys = lane_tags(check_catalog())
    if not keys:
        raise dg.Failure(description="no catalog tag has lane = intraday: the intraday lane has nothing to refresh")
    as_of, run_id, cutoff, client = as_of_of(context), run_id_of(context), cutoff_of(context), warehouse.client(context)
    night = refinement.night_refined(client, as_of, "the intraday lane")
    night_lane = sorted(row[0] for row in client.query(
        f"SELECT tag_key FROM {relation('tag_catalog_snapshots')} WHERE (as_of, run_id) IN "
        f"(SELECT as_of, run_id FROM {relation('published_run')}) AND lane = 'intraday'").result_rows)
    if night_lane != keys:
        # the lane's store models name the lane of the catalog the project was built with (macros/tags/lane.sql): the
        # next night takes the catalog's change, and the lane runs with it from then on
        raise dg.Failure(description=f"the catalog's intraday lane ({', '.join(keys)}) is not the published night's "
                                     f"({', '.join(night_lane) or 'none'}): the lane runs again after the next nightly run")
    if cutoff <= night[1]:
        raise dg.Failure(description=f"cutoff {cutoff} is not after the published night's, {night[1]}: the intraday "
                                     "lane moves forward from the night")
    return refinement.build(context, dbt, client, what="the intraday run", models=models(keys), tag_keys=keys,
                            as_of=as_of, run_id=run_id, cutoff=cutoff, lane="intraday")


@dg.asset(group_name=GROUP, deps=[intraday_tags], partitions_def=AS_OF_PARTITIONS, backfill_policy=ONE_DAY_PER_RUN,
          description=f"Makes the intraday run's tags what BI reads: one row in {relation('publish_log')} switches "
                      "them, and only them, in tags.customer_tags, the profile and the bitmaps.")
def published_intraday_tags(context: AssetExecutionContext, warehouse: WarehouseResource,
                            refresh_lock: RefreshLock) -> dg.MaterializeResult:
    keys = lane_tags(catalog.load())
    try:
        done = publish.publish_refinement(warehouse.client(context), run_id_of(context), as_of_of(context),
                                          cutoff=cutoff_of(context), tag_keys=keys, lane="intraday")
    except publish.PublishError as exc:
        raise dg.Failure(description=str(exc)) from exc
    return dg.MaterializeResult(metadata={"run_id": done.run_id, "as_of": str(done.as_of), "cutoff": str(done.cutoff),
                                          "tags": ", ".join(keys)})


def intraday_job():
    return dg.define_asset_job(JOB_NAME, selection=dg.AssetSelection.groups(GROUP), executor_def=dg.in_process_executor,
                               hooks={alert_on_failure}, tags={LANE_TAG: "intraday"},
                               description="The intraday lane's tags, at the run's cutoff, from the rows loaded since; "
                                           "checked and published alone (orchestration/dagster/intraday.py).")


def last_run_started(instance: dg.DagsterInstance) -> dt.datetime | None:
    """When the last successful run of either lane started: what it staged was loaded before that."""
    from orchestration.dagster.schedules import JOB_NAME as NIGHTLY_JOB  # schedules.py imports this module

    starts = [record.start_time for job in (JOB_NAME, NIGHTLY_JOB)
              for record in instance.get_run_records(dg.RunsFilter(job_name=job, statuses=[dg.DagsterRunStatus.SUCCESS]),
                                                     limit=1) if record.start_time]
    return dt.datetime.fromtimestamp(max(starts), dt.timezone.utc) if starts else None


def interval_seconds() -> int:
    """How often the sensor looks for new loads (INTRADAY_INTERVAL_SECONDS, default 60, at least 30)."""
    value = os.environ.get(INTERVAL_VARIABLE, str(DEFAULT_INTERVAL_S))
    if not value.isdigit() or int(value) < 30:
        raise ValueError(f"{INTERVAL_VARIABLE} must be a whole number of seconds, at least 30; got {value!r}")
    return int(value)


def newest_load_since(client, instant: dt.datetime | None) -> str | None:
    """The id of the newest load into the lane's raw tables committed after instant (raw.load_log, the warehouse's
    clock; any committed one when instant is None), or None."""
    found = client.query(
        f"SELECT load_id FROM {contract.LOAD_LOG} WHERE state = 'committed' AND hasAny(tables, %(tables)s) "
        "AND at > fromUnixTimestamp64Milli(%(ms)s) ORDER BY at DESC LIMIT 1",
        parameters={"tables": list(RAW_TABLES), "ms": int(instant.timestamp() * 1000) if instant else 0}).result_rows
    return found[0][0] if found else None


def intraday_sensor(job) -> dg.SensorDefinition:
    """Every INTRADAY_INTERVAL_SECONDS (default 60), off unless INTRADAY_SENSOR=on: when a load into orders or tickets
    committed since the last run of either lane began, a run of the lane as of the published night, evaluated now.
    A payment is in BI about one interval and one run after its load; a tick without new loads costs two small
    queries and starts nothing."""
    status = dg.DefaultSensorStatus.RUNNING if settings.switched_on(SWITCH_VARIABLE) else dg.DefaultSensorStatus.STOPPED

    @dg.sensor(job=job, minimum_interval_seconds=interval_seconds(), default_status=status,
               description="Runs the intraday lane when orders or tickets were loaded since its last run.")
    def intraday_loads(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        from orchestration.dagster.schedules import JOB_NAME as NIGHTLY_JOB
        from orchestration.warehouse import db

        client = db.client()
        night = client.query(f"SELECT as_of, cutoff FROM {relation('published_run')}").result_rows
        if not night:
            return dg.SkipReason("no night is published yet: the intraday lane refines the published night")
        for job_name in (JOB_NAME, NIGHTLY_JOB):  # a night under way publishes a new night to refine, so wait for it
            if context.instance.get_run_ids(dg.RunsFilter(job_name=job_name, statuses=IN_FLIGHT), limit=1):
                return dg.SkipReason(f"a run of {job_name} is queued or running: the lane's next run waits for it")
        load_id = newest_load_since(client, last_run_started(context.instance))
        if load_id is None:
            return dg.SkipReason(f"nothing was loaded into {' or '.join(RAW_TABLES)} since the last run began")
        now = dt.datetime.now(ZoneInfo(timezone())).replace(tzinfo=None, microsecond=0)
        if now <= night[0][1]:
            return dg.SkipReason(f"the published night is evaluated at {night[0][1]}, not before now: nothing to refine")
        # one run per newest load: a run that failed is not retried until another load comes
        return dg.RunRequest(run_key=load_id, partition_key=night[0][0].isoformat(),
                             tags={CUTOFF_TAG: now.strftime(CUTOFF_FORMAT)})

    return intraday_loads
