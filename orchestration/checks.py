"""Quality checks as Dagster asset checks on every tag model, computed once per run (quality.py).

Each tag asset gets coverage, distribution, stability and (for rule, score and manual tags)
accuracy checks; a check is blocking when the catalog lists it in the tag's blocking_checks. A
failed blocking check fails with ERROR severity, and since publishing depends on every tag asset,
nothing is published. Non-blocking failures are warnings. Every result carries its figures.
Freshness is a check on the published tags (after publishing: it warns, it cannot unpublish).
"""

import dagster as dg
from dagster import AssetCheckExecutionContext

from orchestration import freshness, quality
from orchestration.assets import TAG_ASSETS, run_as_of, run_id_of
from orchestration.resources import WarehouseResource


SPECS = [
    dg.AssetCheckSpec(name=check, asset=asset, blocking=check in row.blocking_checks,
                      description=f"{check} of {row.tag_key} ({'blocks publishing' if check in row.blocking_checks else 'warns'})")
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
    for result in results:
        if dg.AssetCheckKey(asset_of[result.tag_key], result.check) not in selected:
            continue
        yield dg.AssetCheckResult(
            asset_key=asset_of[result.tag_key], check_name=result.check, passed=result.passed,
            severity=dg.AssetCheckSeverity.ERROR if result.blocking else dg.AssetCheckSeverity.WARN,
            metadata={"tag_key": result.tag_key, "observed": result.observed, "expected": result.expected,
                      "message": result.message},
        )


@dg.asset_check(asset="published_tags", name="freshness", description="Delay from the newest fact in the data to "
                "the published tags: healthy under 24 h, risk over 72 h (fails).")
def published_freshness(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    figure = freshness.measure(warehouse.client(context), run_id_of(context))
    return dg.AssetCheckResult(passed=figure.status != "risk", severity=dg.AssetCheckSeverity.WARN,
                               metadata={"delay_hours": figure.delay_hours, "status": figure.status,
                                         "newest_fact_at": str(figure.newest_fact_at),
                                         "published_at": str(figure.published_at), "message": figure.describe()})
