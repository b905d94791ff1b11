"""Asset checks written in Python. The quality checks of the tags are dbt tests, loaded by dagster-dbt
as asset checks on every tag asset (orchestration/quality.py, translator.py).
Freshness is a check on the published tags (after publishing: it warns, it cannot unpublish).
"""

import dagster as dg
from dagster import AssetCheckExecutionContext

from orchestration import freshness
from orchestration.assets import run_id_of
from orchestration.resources import WarehouseResource


@dg.asset_check(asset="published_tags", name="freshness", description="Delay from the newest fact in the data to "
                "the published tags: healthy under 24 h, risk over 72 h (fails).")
def published_freshness(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    figure = freshness.measure(warehouse.client(context), run_id_of(context))
    return dg.AssetCheckResult(passed=figure.status != "risk", severity=dg.AssetCheckSeverity.WARN,
                               metadata={"delay_hours": figure.delay_hours, "status": figure.status,
                                         "newest_fact_at": str(figure.newest_fact_at),
                                         "published_at": str(figure.published_at), "message": figure.describe()})
