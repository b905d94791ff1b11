"""Quality checks as Dagster asset checks on every tag model, computed once per run (quality.py).

Each tag asset gets coverage, distribution, stability and (for rule, score and manual tags)
accuracy checks; a check is blocking when the catalog lists it in the tag's blocking_checks, so
publishing waits for it. A failed blocking check of a `when_blocked = hold_night` tag fails with
ERROR severity and, since publishing depends on every tag asset, nothing is published; one of a
`hold_tag` tag is a WARN, and the publish step holds that tag back (holds.py) while the others
publish. Non-blocking failures are warnings. Every result carries its figures.
Freshness is a check on the published tags (after publishing: it warns, it cannot unpublish), measured
by dbt source freshness (freshness.py).
"""

import dagster as dg
from dagster import AssetCheckExecutionContext
from dagster_dbt import DbtCliResource, get_asset_key_for_model

from orchestration.catalog import catalog
from orchestration.dagster import dbt_runner
from orchestration.dagster.assets import TAG_ASSETS, dbt_models, run_as_of, run_id_of
from orchestration.dagster.project import PROJECT
from orchestration.dagster.resources import WarehouseResource
from orchestration.quality import expectations, freshness, quality


def _when_failed(row, check: str) -> str:
    """What a failed check of this tag does (the check's description, and its outcome when it fails)."""
    if check not in row.blocking_checks:
        return "warns"
    return "blocks publishing" if row.when_blocked == "hold_night" else "holds this tag at its last published values"


SPECS = [
    dg.AssetCheckSpec(name=check, asset=asset, blocking=check in row.blocking_checks,
                      description=f"{check} of {row.tag_key} ({_when_failed(row, check)})")
    for asset, row in TAG_ASSETS.items() for check in quality.checks_of(row)
]


@dg.multi_asset_check(specs=SPECS, name="tag_quality", can_subset=True, description="Coverage, distribution, stability and "
                      "accuracy of every tag, validated with great-expectations; results in the quality database.")
def tag_quality(context: AssetCheckExecutionContext, warehouse: WarehouseResource):
    client = warehouse.client(context)
    rows = list(TAG_ASSETS.values())
    as_of, run_id = run_as_of(context), run_id_of(context)
    figures = quality.figures(client, run_id, as_of, rows)
    results = quality.validate(figures, rows, run_id)
    quality.record(client, run_id, as_of, results, figures)
    asset_of = {row.tag_key: asset for asset, row in TAG_ASSETS.items()}
    selected = context.selected_asset_check_keys  # a run of some tags checks only those
    by_key = {row.tag_key: row for row in rows}
    when_blocked = {row.tag_key: row.when_blocked for row in rows}
    for result in results:
        if dg.AssetCheckKey(asset_of[result.tag_key], result.check) not in selected:
            continue
        # A failed blocking check of a hold_tag tag must not stop publishing: the publish step holds that
        # tag back (holds.py). Only an ERROR of a blocking check stops what depends on it.
        holds_night = result.blocking and when_blocked[result.tag_key] == "hold_night"
        outcome = "" if result.passed or not result.blocking else _when_failed(by_key[result.tag_key], result.check)
        yield dg.AssetCheckResult(
            asset_key=asset_of[result.tag_key], check_name=result.check, passed=result.passed,
            severity=dg.AssetCheckSeverity.ERROR if holds_night else dg.AssetCheckSeverity.WARN,
            metadata={"tag_key": result.tag_key, "observed": result.observed, "expected": result.expected,
                      "message": result.message, **({"outcome": outcome} if outcome else {})},
        )


@dg.asset_check(asset="published_tags", name="freshness", description="Delay from the newest fact in the data to "
                "the published tags, by dbt source freshness: healthy under 24 h, risk over 72 h (fails).")
def published_freshness(context: AssetCheckExecutionContext, dbt: DbtCliResource,
                        warehouse: WarehouseResource) -> dg.AssetCheckResult:
    published_at = freshness.published_at(warehouse.client(context), run_id_of(context))
    # exits non-zero when a source is stale; what it measured is in sources.json either way
    invocation = dbt.cli(["source", "freshness", "--vars", dbt_runner.dbt_vars(run_as_of(context))],
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
    outcome = expectations.validate_run(warehouse.client(context), run_id_of(context), run_as_of(context),
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
