"""The nightly schedule: NIGHTLY_CRON (default 02:00 every day) in NIGHTLY_TIMEZONE (default UTC).

Off unless switched on (in the UI, or with NIGHTLY_SCHEDULE=on where the Dagster daemon runs): any
`dagster dev` on a laptop would otherwise arm a 02:00 refresh of whatever warehouse it points at.

Each tick runs the partition of the day before it (the day that just ended) with the tick as the run's
cutoff: the 02:00 run of day X is as of X-1, evaluated at X 02:00. Tags whose catalog row says
evaluated_at = cutoff (awaiting payment, complaint open, ...) count back from 02:00, so a payment made
at 01:00 is seen and an order placed at 01:59 is not yet "unpaid for more than an hour"; the others
count the day X-1 whole. Written as a schedule of its own rather
than build_schedule_from_partitioned_job, which takes no cron for a time-partitioned job (only the
hour and minute of the partitions' own cadence) and would make NIGHTLY_CRON a fixed 02:00.
"""

from __future__ import annotations

import datetime as dt
import os

import dagster as dg

from orchestration import settings
from orchestration.dagster import intraday, new_tags
from orchestration.dagster.hooks import alert_on_failure
from orchestration.dagster.partitions import AS_OF_PARTITIONS, CUTOFF_FORMAT, CUTOFF_TAG, KEY_FORMAT, timezone

JOB_NAME = "nightly_refresh"
SWITCH_VARIABLE = "NIGHTLY_SCHEDULE"


def nightly_job() -> dg.UnresolvedAssetJobDefinition:
    # In one process, so the refresh lock (a resource) is held from the first step to the last.
    # Its failed steps send alerts (hooks.py), wherever it runs.
    # every asset but those of the runs that refine the night between nights (intraday.py, new_tags.py)
    return dg.define_asset_job(JOB_NAME, selection=dg.AssetSelection.all() - dg.AssetSelection.groups(intraday.GROUP, new_tags.GROUP),
                               executor_def=dg.in_process_executor,
                               hooks={alert_on_failure},
                               description="Staging, features, every catalog tag, outputs, quality checks, publish: "
                                           "as of its partition's day (partitioned like its assets).")


def default_status() -> dg.DefaultScheduleStatus:
    """NIGHTLY_SCHEDULE=on starts the schedule running (production); anything else but off is an error."""
    return dg.DefaultScheduleStatus.RUNNING if settings.switched_on(SWITCH_VARIABLE) else dg.DefaultScheduleStatus.STOPPED


def nightly_schedule(job) -> dg.ScheduleDefinition:
    @dg.schedule(job=job, cron_schedule=os.environ.get("NIGHTLY_CRON", "0 2 * * *"), execution_timezone=timezone(),
                 default_status=default_status())
    def nightly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        # the day that just ended, evaluated at the tick (both in NIGHTLY_TIMEZONE, the partitions' too)
        tick = context.scheduled_execution_time
        key = (tick.date() - dt.timedelta(days=1)).strftime(KEY_FORMAT)
        if not AS_OF_PARTITIONS.has_partition_key(key):
            return dg.SkipReason(f"{key} is before the first partition, {AS_OF_PARTITIONS.get_first_partition_key()}")
        return dg.RunRequest(run_key=key, partition_key=key, tags={CUTOFF_TAG: tick.strftime(CUTOFF_FORMAT)})

    return nightly
