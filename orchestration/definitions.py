"""The Dagster code location: `dagster dev -m orchestration.definitions`. It only assembles."""

from __future__ import annotations

import dagster as dg

from orchestration.assets import dbt_models, published_tags, quality_report
from orchestration.checks import published_freshness
from orchestration.resources import resources
from orchestration.schedules import nightly_job, nightly_schedule

job = nightly_job()

defs = dg.Definitions(
    assets=[dbt_models, published_tags, quality_report],
    asset_checks=[published_freshness],
    jobs=[job],
    schedules=[nightly_schedule(job)],
    resources=resources(),
)
