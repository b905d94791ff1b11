"""The quality figures of a run, and their validation with great-expectations.

Every figure is an aggregate computed in ClickHouse from the run's rows in the tag store (nothing
is pulled whole into Python); the small table of figures, one column per tag and check, is then
validated by a GX suite generated from the catalog, and the results are kept in ClickHouse
(database `quality`) and as GX Data Docs (reports/quality/gx/).

The checks, per tag:
- coverage: share of all customers with the tag, inside the catalog's [coverage_min, coverage_max];
- distribution: population stability index (PSI) of the tag's values against the previous
  published run, at most QUALITY_PSI_MAX (default 0.2). Values are bucketed as tagged/untagged for
  a flag, by label (plus untagged) for a label, by the previous run's deciles for a number;
- stability: share of the tag's customers (tagged in either run) whose value changed, at most
  QUALITY_STABILITY_MAX (default 0.3);
- accuracy: sampled customers whose tag differs from the independent recomputation
  (models/quality/), which must be none. Not for rfm and sql tags (see accuracy_checked_tags).
Without a previous published run, distribution and stability have nothing to compare and pass.
Whether a failed check blocks publishing is the catalog's `blocking_checks` for the tag.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from orchestration.catalog import catalog, catalog_sync
from orchestration.settings import PROJECT_DIR

CHECKS = ("coverage", "distribution", "stability", "accuracy")
ACCURACY_METHODS = ("rule", "score", "manual")
REPORT_DIR = PROJECT_DIR / "reports" / "quality"
PSI_FLOOR = 1e-4  # a share of 0 would make the PSI infinite


def psi_max() -> float:
    return float(os.environ.get("QUALITY_PSI_MAX", "0.2"))


def stability_max() -> float:
    return float(os.environ.get("QUALITY_STABILITY_MAX", "0.3"))


def checks_of(row: catalog.CatalogRow) -> tuple[str, ...]:
    """The checks a tag gets: all four, but accuracy only where a per-customer recomputation applies."""
    return CHECKS if row.method in ACCURACY_METHODS else CHECKS[:3]


def psi(current: dict[str, float], previous: dict[str, float]) -> float:
    """Population stability index of two share distributions over the same buckets."""
    total = 0.0
    for bucket in set(current) | set(previous):
        a, e = max(current.get(bucket, 0.0), PSI_FLOOR), max(previous.get(bucket, 0.0), PSI_FLOOR)
        total += (a - e) * math.log(a / e)
    return total


@dataclass(frozen=True)
class TagFigures:
    tag_key: str
    members: int
    coverage: float
    psi: float | None  # None: no previous published run
    changed_share: float | None
    changed: int
    sampled: int | None  # None: no accuracy check for this tag
    mismatches: int | None
    mismatch_examples: list[str]
    shares: dict[str, float]  # this run's value distribution (for the report)
    quantiles: dict[str, float]  # number tags: p10, p50, p90


def previous_run(client, as_of) -> str | None:
    """The latest published run of an earlier as_of, the one this run is compared with."""
    rows = client.query("SELECT run_id FROM tag_store.publish_log WHERE as_of < %(as_of)s "
                        "ORDER BY as_of DESC, published_at DESC LIMIT 1", parameters={"as_of": as_of}).result_rows
    return rows[0][0] if rows else None


def _customer_count(client, run_id: str) -> int:
    return int(client.command("SELECT any(customer_count) FROM tag_store.tag_catalog_snapshots WHERE run_id = %(r)s",
                              parameters={"r": run_id}) or 0)


def _shares(client, run_id: str, rows: list[catalog.CatalogRow], edges: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Per tag, the share of all customers in each value bucket, untagged included. A number tag's
    buckets are deciles cut at `edges` (the previous run's), so both runs are bucketed alike."""
    customers = _customer_count(client, run_id) or 1
    kinds = {r.tag_key: r.value_type for r in rows}
    shares: dict[str, dict[str, float]] = {key: {} for key in kinds}
    for tag_key, value, count in client.query(
            "SELECT tag_key, tag_value, count() FROM tag_store.tag_snapshots WHERE run_id = %(r)s AND tag_key IN %(keys)s "
            "GROUP BY tag_key, tag_value",
            parameters={"r": run_id, "keys": [k for k, t in kinds.items() if t != "number"] or [""]}).result_rows:
        shares[tag_key]["tagged" if kinds[tag_key] == "flag" else value] = count / customers
    for tag_key in (k for k, t in kinds.items() if t == "number"):
        for bucket, count in client.query(
                "SELECT arraySum(arrayMap(edge -> toFloat64OrZero(tag_value) > edge, CAST(%(edges)s AS Array(Float64)))) "
                "AS bucket, count() FROM tag_store.tag_snapshots WHERE run_id = %(r)s AND tag_key = %(key)s GROUP BY bucket",
                parameters={"r": run_id, "key": tag_key, "edges": edges.get(tag_key, [])}).result_rows:
            shares[tag_key][f"decile {bucket}"] = count / customers
    for buckets in shares.values():
        buckets["untagged"] = max(0.0, 1.0 - sum(buckets.values()))
    return shares


def figures(client, run_id: str, as_of, rows: list[catalog.CatalogRow]) -> list[TagFigures]:
    """Every built tag's figures for this run, from the tag store and the accuracy models."""
    rows = catalog_sync.built(rows)
    previous = previous_run(client, as_of)
    numbers = [r.tag_key for r in rows if r.value_type == "number"]
    quantiles = {k: dict(zip(("p10", "p50", "p90"), q)) for k, q in client.query(
        "SELECT tag_key, quantilesExact(0.1, 0.5, 0.9)(toFloat64OrZero(tag_value)) FROM tag_store.tag_snapshots "
        "WHERE run_id = %(r)s AND tag_key IN %(keys)s GROUP BY tag_key",
        parameters={"r": run_id, "keys": numbers or [""]}).result_rows}
    edges: dict[str, list[float]] = {k: [] for k in numbers}
    if previous:
        for tag_key, deciles in client.query(
                "SELECT tag_key, arrayDistinct(quantilesExact(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)"
                "(toFloat64OrZero(tag_value))) FROM tag_store.tag_snapshots WHERE run_id = %(r)s AND tag_key IN %(keys)s "
                "GROUP BY tag_key", parameters={"r": previous, "keys": numbers or [""]}).result_rows:
            edges[tag_key] = list(deciles)
    current_shares = _shares(client, run_id, rows, edges)
    previous_shares = _shares(client, previous, rows, edges) if previous else {}
    catalog_figures = {k: (m, c) for k, m, c in client.query(
        "SELECT tag_key, member_count, coverage FROM tag_store.tag_catalog_snapshots WHERE run_id = %(r)s",
        parameters={"r": run_id}).result_rows}
    changes = {k: (n, removed) for k, n, removed in client.query(
        "SELECT tag_key, count(), countIf(change = 'removed') FROM tag_store.tag_change_log WHERE run_id = %(r)s "
        "GROUP BY tag_key", parameters={"r": run_id}).result_rows}
    sampled = int(client.command("SELECT count() FROM quality.accuracy_sample_features"))
    mismatches: dict[str, list[str]] = {}
    for tag_key, customer_id, built, recomputed in client.query(
            "SELECT tag_key, customer_id, built_value, recomputed_value FROM quality.accuracy_mismatches "
            "WHERE run_id = %(r)s ORDER BY tag_key, customer_id", parameters={"r": run_id}).result_rows:
        mismatches.setdefault(tag_key, []).append(f"{customer_id}: built {built or '(none)'}, recomputed {recomputed or '(none)'}")

    result = []
    for row in rows:
        members, coverage = catalog_figures.get(row.tag_key, (0, 0.0))
        changed, removed = changes.get(row.tag_key, (0, 0))
        touched = members + removed  # customers tagged in this run or the previous one
        checked = row.method in ACCURACY_METHODS
        result.append(TagFigures(
            tag_key=row.tag_key, members=members, coverage=coverage,
            psi=psi(current_shares[row.tag_key], previous_shares[row.tag_key]) if previous else None,
            changed_share=(changed / touched if touched else 0.0) if previous else None, changed=changed,
            sampled=sampled if checked else None,
            mismatches=len(mismatches.get(row.tag_key, [])) if checked else None,
            mismatch_examples=mismatches.get(row.tag_key, [])[:10],
            shares=current_shares[row.tag_key], quantiles=quantiles.get(row.tag_key, {}),
        ))
    return result


@dataclass(frozen=True)
class CheckResult:
    tag_key: str
    check: str
    passed: bool
    blocking: bool
    observed: float | None
    expected: str
    message: str


# check -> the figure column it validates
FIGURE_OF = {"coverage": "coverage", "distribution": "psi", "stability": "changed_share", "accuracy": "mismatches"}


def _bounds(row: catalog.CatalogRow, check: str) -> tuple[float | None, float | None]:
    return {"coverage": (row.coverage_min, row.coverage_max), "distribution": (None, psi_max()),
            "stability": (None, stability_max()), "accuracy": (0, 0)}[check]


def build_suite(rows: list[catalog.CatalogRow]):
    """The GX suite of a run, generated from the catalog: one expectation per tag and check."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(name="tag_quality")
    for row in catalog_sync.built(rows):
        for check in checks_of(row):
            low, high = _bounds(row, check)
            suite.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
                column=f"{row.tag_key}__{FIGURE_OF[check]}", min_value=low, max_value=high,
                meta={"tag_key": row.tag_key, "check": check}))
    return suite


def validate(tag_figures: list[TagFigures], rows: list[catalog.CatalogRow], run_name: str) -> list[CheckResult]:
    """Validate the run's figures with the generated suite; writes GX Data Docs under REPORT_DIR."""
    import great_expectations as gx
    import pandas as pd
    from great_expectations.data_context.types.base import ProgressBarsConfig

    by_key = {r.tag_key: r for r in rows}
    frame = pd.DataFrame([{f"{f.tag_key}__{name}": getattr(f, name) for f in tag_figures
                           for name in ("coverage", "psi", "changed_share", "mismatches")}]).astype("float64")
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    # One GX project per checkout: refreshes of two warehouses from one checkout take turns in it
    # (its suite and checkpoint stores are files that a concurrent add_or_update would corrupt).
    with FileLock(REPORT_DIR / "gx.lock"):
        context = gx.get_context(mode="file", project_root_dir=REPORT_DIR)
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        batch = (context.data_sources.add_or_update_pandas("tag_store")
                 .add_dataframe_asset("tag_figures").add_batch_definition_whole_dataframe("run"))
        suite = context.suites.add_or_update(build_suite(rows))
        definition = context.validation_definitions.add_or_update(
            gx.ValidationDefinition(name="tag_quality", data=batch, suite=suite))
        checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
            name="nightly", validation_definitions=[definition],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs")]))
        outcome = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=gx.RunIdentifier(run_name=run_name))
    figures_of = {f.tag_key: f for f in tag_figures}
    results = []
    for validation in outcome.run_results.values():
        for item in validation.results:
            tag_key, check = item.expectation_config.meta["tag_key"], item.expectation_config.meta["check"]
            observed = frame.iloc[0][item.expectation_config.kwargs["column"]]
            observed = None if pd.isna(observed) else float(observed)
            expected = _expected(*_bounds(by_key[tag_key], check))
            results.append(CheckResult(tag_key, check, bool(item.success), check in by_key[tag_key].blocking_checks,
                                       observed, expected, _message(check, observed, expected, figures_of[tag_key])))
    return results


def _expected(low: float | None, high: float | None) -> str:
    if low is None:
        return f"at most {high:g}"
    return f"exactly {low:g}" if low == high else f"{low:g} to {high:g}"


def _message(check: str, observed: float | None, expected: str, figures: TagFigures) -> str:
    if observed is None:
        return f"{check}: no previous published run to compare with"
    if check == "accuracy":
        examples = "; ".join(figures.mismatch_examples)
        return (f"{int(observed)} of {figures.sampled} sampled customers disagree with the independent recomputation"
                + (f": {examples}" if examples else ""))
    names = {"coverage": "coverage", "distribution": "PSI against the previous run",
             "stability": "share of its customers whose value changed"}
    return f"{names[check]} {observed:.4f}, expected {expected}"


QUALITY_DDL = (
    "CREATE DATABASE IF NOT EXISTS quality",
    """CREATE TABLE IF NOT EXISTS quality.check_results (
        run_id String, as_of Date, checked_at DateTime64(3) DEFAULT now64(3), tag_key String, check LowCardinality(String),
        passed UInt8, blocking UInt8, observed Nullable(Float64), expected String, message String
    ) ENGINE = MergeTree ORDER BY (as_of, run_id, tag_key, check)""",
    """CREATE TABLE IF NOT EXISTS quality.value_shares (
        run_id String, as_of Date, tag_key String, bucket String, share Float64
    ) ENGINE = MergeTree ORDER BY (as_of, run_id, tag_key, bucket)""",
    """CREATE TABLE IF NOT EXISTS quality.accuracy_samples (
        run_id String, as_of Date, sample_rate Float64, sample_max UInt32, customers UInt32, seed String
    ) ENGINE = MergeTree ORDER BY (as_of, run_id)""",
)


def record(client, run_id: str, as_of, results: list[CheckResult], tag_figures: list[TagFigures]) -> None:
    """Keep the run's check results and value shares in ClickHouse (database quality)."""
    for statement in QUALITY_DDL:
        client.command(statement)
    client.command("DELETE FROM quality.check_results WHERE run_id = %(r)s", parameters={"r": run_id})
    client.insert("quality.check_results",
                  [[run_id, as_of, r.tag_key, r.check, int(r.passed), int(r.blocking), r.observed, r.expected, r.message]
                   for r in results],
                  column_names=["run_id", "as_of", "tag_key", "check", "passed", "blocking", "observed", "expected", "message"])
    client.insert("quality.value_shares",
                  [[run_id, as_of, f.tag_key, bucket, share] for f in tag_figures for bucket, share in f.shares.items()],
                  column_names=["run_id", "as_of", "tag_key", "bucket", "share"])
    sampled = next((f.sampled for f in tag_figures if f.sampled is not None), 0)
    rate, cap = accuracy_sample_settings()
    client.insert("quality.accuracy_samples", [[run_id, as_of, rate, cap, sampled, run_id]],
                  column_names=["run_id", "as_of", "sample_rate", "sample_max", "customers", "seed"])


def accuracy_sample_settings() -> tuple[float, int]:
    """The sample rate and cap dbt used (dbt_project.yml vars)."""
    import yaml

    variables = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    return float(variables["accuracy_sample_rate"]), int(variables["accuracy_sample_max"])
