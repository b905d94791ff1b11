"""Quality and hygiene figures against hand-computed values, and the Dagster code location loading."""

import datetime as dt
import math

import pytest
import yaml

from orchestration.catalog import catalog
from orchestration.dagster import refresh
from orchestration.quality import freshness, hygiene, quality
from orchestration.warehouse import contract


def test_psi_of_identical_distributions_is_zero():
    assert quality.psi({"tagged": 0.2, "untagged": 0.8}, {"tagged": 0.2, "untagged": 0.8}) == 0


def test_psi_by_hand():
    # (0.1 - 0.2) ln(0.1/0.2) + (0.9 - 0.8) ln(0.9/0.8)
    expected = (-0.1) * math.log(0.5) + 0.1 * math.log(0.9 / 0.8)
    assert quality.psi({"tagged": 0.1, "untagged": 0.9}, {"tagged": 0.2, "untagged": 0.8}) == pytest.approx(expected)
    assert expected == pytest.approx(0.0811, abs=1e-4)


def test_psi_floors_an_empty_bucket_instead_of_dividing_by_zero():
    value = quality.psi({"a": 0.5, "b": 0.5}, {"a": 1.0})
    assert value == pytest.approx((0.5 - 1) * math.log(0.5) + (0.5 - 1e-4) * math.log(0.5 / 1e-4))


def test_freshness_bands_are_the_seeds_in_the_dbt_sources():
    document = yaml.safe_load(contract.SOURCES_FILE.read_text())
    (raw,) = [s for s in document["sources"] if s["name"] == "raw"]
    measured = {t["name"]: t["config"] for t in raw["tables"] if "freshness" in t["config"]}
    assert sorted(measured) == ["events", "orders", "tickets"]
    for config in measured.values():
        assert config["freshness"] == {"warn_after": {"count": 24, "period": "hour"},
                                       "error_after": {"count": 72, "period": "hour"}}
        assert "as_of_end()" in config["loaded_at_query"]  # a replayed date measures its own data


def source_result(table: str, status: str, newest: str, age_s: float) -> dict:
    """One result of dbt's sources.json as `dbt source freshness` writes it."""
    return {"unique_id": f"source.customer_tags.raw.{table}", "status": status, "max_loaded_at": newest,
            "snapshotted_at": "2026-11-25T06:00:00+00:00", "max_loaded_at_time_ago_in_s": age_s}


def test_freshness_is_the_freshest_source_with_dbt_status_as_bands():
    artifact = {"results": [source_result("orders", "warn", "2026-11-23T23:00:00+00:00", 31 * 3600),
                            source_result("tickets", "error", "2026-11-20T06:00:00+00:00", 120 * 3600),
                            source_result("events", "pass", "2026-11-24T20:00:00+00:00", 10 * 3600)]}
    figure = freshness.from_sources_json(artifact, dt.datetime(2026, 11, 25, 5, 59, 58))
    assert (figure.newest.source, figure.delay_hours, figure.status) == ("raw.events", 10.0, "healthy")
    assert [(s.source, s.status) for s in figure.sources] == [
        ("raw.events", "healthy"), ("raw.orders", "warning"), ("raw.tickets", "risk")]
    assert figure.newest.newest_fact_at == dt.datetime(2026, 11, 24, 20)
    assert "raw.tickets 120.0 h (risk)" in figure.describe()


def test_freshness_names_a_source_dbt_could_not_measure():
    artifact = {"results": [{"unique_id": "source.customer_tags.raw.orders", "status": "runtime error",
                             "error": "Table raw.orders does not exist"}]}
    with pytest.raises(freshness.FreshnessError, match="raw.orders: Table raw.orders does not exist"):
        freshness.from_sources_json(artifact, dt.datetime(2026, 11, 25))


@pytest.mark.parametrize("total, status", [(14, "warning"), (15, "healthy"), (35, "healthy"), (36, "warning"),
                                           (50, "warning"), (51, "risk")])
def test_total_tags_bands(total, status):
    assert hygiene.total_tags_status(total) == status


@pytest.mark.parametrize("rate, status", [(0.81, "healthy"), (0.8, "warning"), (0.6, "warning"), (0.59, "risk")])
def test_usage_rate_bands(rate, status):
    assert hygiene.usage_status(rate) == status


@pytest.mark.parametrize("members, days, suggestion", [(51, 90, "archive"), (9, 180, "delete"), (9, 179, "review"),
                                                       (50, 200, "review")])
def test_zombie_suggestions(members, days, suggestion):
    assert hygiene.zombie_suggestion(members, days) == suggestion


def test_accuracy_is_checked_only_where_a_per_customer_recomputation_applies():
    by_key = {r.tag_key: r for r in catalog.load()}
    assert quality.checks_of(by_key["vip"]) == ("coverage", "distribution", "stability", "accuracy")
    assert "accuracy" not in quality.checks_of(by_key["rfm_segment"])
    assert "accuracy" not in quality.checks_of(by_key["big_spender_sql"])


def test_a_tag_key_selects_its_model_the_outputs_the_catalog_and_the_accuracy_sample():
    rows = catalog.load()
    assert refresh.selectors(["vip"], rows) == ["tag_catalog", "audiences", "audience_catalog_snapshots",
                                                 "customer_bitmap_snapshots", "tag_vip+", "accuracy_sample_features+"]
    assert refresh.selectors(["staging"], rows) == ["staging"]
    assert refresh.selectors(None, rows) is None


def test_the_code_location_loads_with_every_tag_grouped_and_checked():
    import dagster as dg

    from orchestration.dagster.definitions import defs

    graph = defs.get_repository_def().asset_graph
    vip = graph.get(dg.AssetKey(["tag_models", "tag_vip"]))
    assert (vip.group_name, vip.owners, vip.tags["category"]) == ("tags", ["team:crm-team"], "value")
    assert graph.get(dg.AssetKey(["staging", "stg_orders"])).group_name == "staging"
    checks = {key.name for key in graph.asset_check_keys if key.asset_key == vip.key}
    assert {"coverage", "distribution", "stability", "accuracy"} <= checks
    schedule = defs.resolve_schedule_def("nightly")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "UTC")


def test_an_unreachable_warehouse_is_retried_with_backoff_then_fails_naming_it(monkeypatch):
    from types import SimpleNamespace

    import dagster as dg

    from orchestration.dagster.resources import WarehouseResource
    from tests.conftest import free_port

    monkeypatch.setenv("DBT_TARGET", "local")
    monkeypatch.setenv("WAREHOUSE_HTTP_PORT", str(free_port()))  # nothing listens there
    logged = []
    context = SimpleNamespace(retry_number=1, log=SimpleNamespace(warning=logged.append))
    with pytest.raises(dg.RetryRequested) as retry:
        WarehouseResource().client(context)
    assert retry.value.seconds_to_wait == 10 and "retry 2 of 3" in logged[0]
    with pytest.raises(dg.Failure, match="the warehouse is unreachable after 3 retries: cannot reach the warehouse at "
                                         "http://default@127.0.0.1"):
        WarehouseResource().client(SimpleNamespace(retry_number=3, log=SimpleNamespace(warning=logged.append)))
