"""The Dagster code location: `dagster dev -m orchestration.dagster.definitions`. It only assembles."""

from __future__ import annotations

import dagster as dg

from orchestration.dagster.assets import dbt_models, published_tags, quality_report
from orchestration.dagster.checks import published_freshness, tag_row_expectations
from orchestration.dagster.inbox import inbox_sensor, load_inbox_batch
from orchestration.dagster.intraday import intraday_job, intraday_sensor, intraday_tags, published_intraday_tags
from orchestration.dagster.new_tags import new_tags, new_tags_job, published_new_tags
from orchestration.dagster.resources import resources
from orchestration.dagster.schedules import nightly_job, nightly_schedule

job = nightly_job()
intraday = intraday_job()
new_tags_refresh = new_tags_job()

defs = dg.Definitions(
    assets=[dbt_models, published_tags, quality_report, intraday_tags, published_intraday_tags, new_tags,
            published_new_tags],
    asset_checks=[published_freshness, tag_row_expectations],
    jobs=[job, intraday, new_tags_refresh, load_inbox_batch],
    schedules=[nightly_schedule(job)],
    sensors=[inbox_sensor(), intraday_sensor(intraday)],
    resources=resources(),
    # Every run in one process, also those of the implicit asset job (materializing or backfilling assets from
    # the UI): the refresh lock (a resource) is held from the first step to the last.
    executor=dg.in_process_executor,
)
