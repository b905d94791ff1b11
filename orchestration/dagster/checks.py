"""Asset checks written in Python. The quality checks of the tags are dbt tests, loaded by dagster-dbt
as asset checks on every tag asset (orchestration/quality/quality.py, translator.py).
Freshness is a check on the published tags (after publishing: it warns, it cannot unpublish), measured
by dbt source freshness (freshness.py). great-expectations validates every run's rows in the tag
store before publishing (expectations.py): a failure blocks the night.
"""

import dagster as dg
from dagster import AssetCheckExecutionContext
from dagster_dbt import DbtCliResource, get_asset_key_for_model

from orchestration.catalog import catalog
from orchestration.dagster import dbt_runner
from orchestration.dagster.assets import dbt_models, run_id_of, run_values
from orchestration.dagster.partitions import as_of_of
from orchestration.dagster.project import PROJECT
from orchestration.dagster.resources import WarehouseResource
from orchestration.quality import expectations, freshness


@dg.asset_check(asset="published_tags", name="freshness", description="Delay from the newest fact in the data to "
                "the published tags, by dbt source freshness: healthy under 24 h, risk over 72 h (fails).")
def published_freshness(context: AssetCheckExecutionContext, dbt: DbtCliResource,
                        warehouse: WarehouseResource) -> dg.AssetCheckResult:
    published_at = freshness.published_at(warehouse.client(context), run_id_of(context))
    # exits non-zero when a source is stale; what it measured is in sources.json either way
    invocation = dbt_runner.cli(dbt, ["source", "freshness"], run_values(context),
                                manifest=PROJECT.manifest_path, raise_on_error=False).wait()
    try:
        figure = freshness.from_sources_json(invocation.get_artifact("sources.json"), published_at)
    except (OSError, freshness.FreshnessError) as exc:
        raise dg.Failure(description=f"dbt source freshness failed: {exc}",
                         metadata={"dbt": str(invocation.get_error() or "")}) from exc
    return dg.AssetCheckResult(passed=figure.status != "risk", severity=dg.AssetCheckSeverity.WARN,
                               metadata={"delay_hours": figure.delay_hours, "status": figure.status,
                                         "newest_fact_at": str(figure.newest.newest_fact_at),
                                         "newest_source": figure.newest.source,
                                         "published_at": str(figure.published_at),
                                         "checked_at": str(figure.newest.checked_at),
                                         **{f"{s.source}_hours": s.age_hours for s in figure.sources},
                                         "message": figure.describe()})


# great-expectations on the run's rows in the tag store, as SQL in ClickHouse (expectations.py): blocking,
# and an ERROR when it fails, so nothing publishes from rows with missing or duplicate keys or values
# outside what the catalog allows (what BI reads keeps the last published run).
STORE_ASSETS = {name: get_asset_key_for_model([dbt_models], name) for name in expectations.ASSETS}


@dg.multi_asset_check(
    specs=[dg.AssetCheckSpec(name="expectations", asset=key, blocking=True,
                             description=f"great-expectations suite {name}, generated from the catalog, on this run's "
                                         "rows, run in ClickHouse (fails: blocks publishing)")
           for name, key in STORE_ASSETS.items()],
    name="tag_row_expectations", can_subset=True)
def tag_row_expectations(context: AssetCheckExecutionContext, warehouse: WarehouseResource):
    outcome = expectations.validate_run(warehouse.client(context), run_id_of(context), as_of_of(context),
                                        catalog.load())
    for name, key in STORE_ASSETS.items():
        if dg.AssetCheckKey(key, "expectations") not in context.selected_asset_check_keys:
            continue
        failed, evaluated = outcome.failures_of(name), outcome.evaluated.get(name, 0)
        message = (f"{len(failed)} failed: " + "; ".join(map(str, failed[:5])) if failed
                   else f"all {evaluated} expectations passed")
        yield dg.AssetCheckResult(
            asset_key=key, check_name="expectations", passed=not failed, severity=dg.AssetCheckSeverity.ERROR,
            metadata={"data_docs": dg.MetadataValue.path(str(outcome.data_docs)), "expectations": evaluated,
                      "failed": len(failed), "failed_expectations": "\n".join(map(str, failed)) or "none",
                      "message": message, **({"outcome": "blocks publishing"} if failed else {})})
