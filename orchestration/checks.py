"""Quality checks as Dagster asset checks on every tag model, computed once per run (quality.py).

Each tag asset gets coverage, distribution, stability and (for rule, score and manual tags)
accuracy checks; a check is blocking when the catalog lists it in the tag's blocking_checks, so
publishing waits for it. A failed blocking check of a `when_blocked = hold_night` tag fails with
ERROR severity and, since publishing depends on every tag asset, nothing is published; one of a
`hold_tag` tag is a WARN, and the publish step holds that tag back (holds.py) while the others
publish. Non-blocking failures are warnings. Every result carries its figures.
Freshness is a check on the published tags (after publishing: it warns, it cannot unpublish).
"""

import dagster as dg
from dagster import AssetCheckExecutionContext

from orchestration import catalog, catalog_sync, freshness, quality
from orchestration.assets import run_id_of, tag_asset_key
from orchestration.partitions import as_of_of
from orchestration.resources import WarehouseResource

# Every built tag's asset with its catalog row (read from the catalog file when the checks are defined).
TAG_ASSETS = {tag_asset_key(r.tag_key): r for r in catalog_sync.built(catalog.load())}


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
    as_of, run_id = as_of_of(context), run_id_of(context)
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
                "the published tags: healthy under 24 h, risk over 72 h (fails).")
def published_freshness(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    figure = freshness.measure(warehouse.client(context), run_id_of(context))
    return dg.AssetCheckResult(passed=figure.status != "risk", severity=dg.AssetCheckSeverity.WARN,
                               metadata={"delay_hours": figure.delay_hours, "status": figure.status,
                                         "newest_fact_at": str(figure.newest_fact_at),
                                         "published_at": str(figure.published_at), "message": figure.describe()})
