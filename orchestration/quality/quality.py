"""The quality checks of a run: dbt generic tests, configured from the catalogs.

The figures are computed in SQL by dbt (models/quality/tag_quality_figures.sql, value_shares.sql):
coverage, drift (PSI against the previous published run), stability and accuracy on the sample.
Each kind of check (seeds/quality_checks.csv) names the generic test that asserts it
(macros/tests/quality/); `tags catalog sync` puts one test per built tag and kind that applies to
the tag's method on tag_quality_figures (models/quality/generated/_quality_checks.yml), named
quality__<tag>__<check>, with severity error when the catalog lists the check in the tag's
blocking_checks and warn otherwise. So `dbt build` alone fails on a blocking figure out of range
and names tag and figure; a new kind of check is one test macro and one row of quality_checks.csv.

The outcomes are kept by dbt's on-run-end hook in quality.check_outcomes and shown by the view
quality.check_results (what holds.py, the report and the CLI read). In Dagster every test is an
asset check on its tag's asset (orchestration/dagster/translator.py).
"""

from __future__ import annotations

from orchestration.relations import relation
from orchestration.catalog import catalog
from orchestration.settings import PROJECT_DIR

REPORT_DIR = PROJECT_DIR / "reports" / "quality"
CHECK_TAG = "quality_check"  # the dbt tag of every quality check's test
FIGURES_MODEL = "tag_quality_figures"
TEST_PREFIX = "quality__"


def checks_of(row: catalog.CatalogRow, kinds: list[catalog.QualityCheck] | None = None) -> list[catalog.QualityCheck]:
    """The kinds of check a tag gets: every kind that applies to its method."""
    return [kind for kind in (catalog.quality_checks() if kinds is None else kinds) if kind.applies_to(row)]


def test_name(tag_key: str, check: str) -> str:
    """The dbt test (and Dagster asset check) of one tag and check: it names both in dbt's output."""
    return f"{TEST_PREFIX}{tag_key}__{check}"


def when_failed(blocking: bool, when_blocked: str) -> str:
    """What a failed check of a tag does: a non-blocking one warns; a blocking one holds the tag
    (when_blocked hold_tag) or the night (hold_night)."""
    if not blocking:
        return "warns"
    return "blocks publishing" if when_blocked == "hold_night" else "holds this tag at its last published values"


def results(client, run_id: str) -> dict[str, dict]:
    """test name -> the run's outcome of that check (quality.check_results), for the command line."""
    found = client.query("SELECT test_name, tag_key, check, passed, blocking, when_blocked, observed, expected, message "
                         f"FROM {relation('check_results')} WHERE run_id = %(r)s", parameters={"r": run_id})
    return {row["test_name"]: row for row in found.named_results()}
