"""The nightly schedule: NIGHTLY_CRON (default 02:00 every day) in NIGHTLY_TIMEZONE (default UTC)."""

from __future__ import annotations

import os

import dagster as dg

from orchestration.dagster.assets import AS_OF_TAG

JOB_NAME = "nightly_refresh"


def nightly_job() -> dg.UnresolvedAssetJobDefinition:
    # In one process, so the refresh lock (a resource) is held from the first step to the last.
    return dg.define_asset_job(JOB_NAME, selection=dg.AssetSelection.all(), executor_def=dg.in_process_executor,
                               description="Staging, features, every catalog tag, outputs, quality checks, publish.")


def nightly_schedule(job) -> dg.ScheduleDefinition:
    @dg.schedule(job=job, cron_schedule=os.environ.get("NIGHTLY_CRON", "0 2 * * *"),
                 execution_timezone=os.environ.get("NIGHTLY_TIMEZONE", "UTC"),
                 default_status=dg.DefaultScheduleStatus.RUNNING)
    def nightly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        # the night's run computes as of the day it is scheduled on
        day = context.scheduled_execution_time.date().isoformat()
        return dg.RunRequest(run_key=day, tags={AS_OF_TAG: day})

    return nightly
