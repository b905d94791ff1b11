"""Quality and hygiene figures against hand-computed values, the quality checks generated from the
catalogs, and the Dagster code location loading. (The quality figures themselves are SQL, tested on a
real warehouse: tests/integration/test_quality_checks.py and test_nightly.py.)"""

import datetime as dt
import json

import pytest
import yaml

from orchestration.catalog import catalog, catalog_sync
from orchestration.dagster import assets, refresh
from orchestration.dagster.project import PROJECT
from orchestration.dagster.translator import TagTranslator
from orchestration.quality import freshness, hygiene, quality
from orchestration.warehouse import contract


def test_freshness_bands_are_the_seeds_in_the_dbt_sources():
    document = yaml.safe_load(contract.SOURCES_FILE.read_text())
    (raw,) = [s for s in document["sources"] if s["name"] == "raw"]
    measured = {t["name"]: t["config"] for t in raw["tables"] if "freshness" in t["config"]}
    assert sorted(measured) == ["events", "orders", "tickets"]
    for config in measured.values():
        assert config["freshness"] == {"warn_after": {"count": 24, "period": "hour"},
                                       "error_after": {"count": 72, "period": "hour"}}
        assert "cutoff()" in config["loaded_at_query"]  # a replayed date measures its own data, up to its cutoff


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
    names = lambda key: [kind.check for kind in quality.checks_of(by_key[key])]  # noqa: E731
    assert names("vip") == ["coverage", "distribution", "stability", "accuracy"]
    assert "accuracy" not in names("rfm_segment")
    assert "accuracy" not in names("big_spender_sql")


def generated_checks() -> dict[str, dict]:
    """test name -> (macro, its properties) of the quality checks catalog sync writes."""
    document = yaml.safe_load(catalog_sync.expected_files(catalog.load())[catalog_sync.QUALITY_DIR / "_quality_checks.yml"])
    [model] = document["models"]
    assert model["name"] == "tag_quality_figures"
    return {props["name"]: (macro, props) for test in model["data_tests"] for macro, props in test.items()
            if "name" in props}


def test_each_tag_gets_one_test_per_check_named_by_tag_and_check_severe_where_the_catalog_blocks():
    checks = generated_checks()
    built = catalog_sync.built(catalog.load())
    assert len(checks) == sum(len(quality.checks_of(r)) for r in built)
    macro, vip = checks["quality__vip__coverage"]
    assert macro == "coverage_between" and vip["arguments"] == {"tag_key": "vip"}
    assert vip["config"] == {"severity": "error", "tags": ["quality_check"], "meta": {
        "tag_key": "vip", "check": "coverage", "blocking": True, "when_blocked": "hold_tag",
        "dagster": {"ref": {"name": "tag_vip"}}}}
    # vip's blocking_checks are coverage;accuracy: its distribution check only warns
    macro, drift = checks["quality__vip__distribution"]
    assert (macro, drift["config"]["severity"], drift["config"]["meta"]["blocking"]) == ("psi_below", "warn", False)
    assert {m for m, _ in checks.values()} == {k.test for k in catalog.quality_checks()}


def test_a_blocking_check_blocks_in_dagster_only_for_a_hold_night_tag():
    manifest = json.loads(PROJECT.manifest_path.read_text())
    [uid] = [u for u, n in manifest["nodes"].items() if n["name"] == "quality__vip__coverage"]
    [figures] = [u for u, n in manifest["nodes"].items() if n["name"] == "tag_quality_figures"]
    translator = TagTranslator()
    figures_spec = translator.get_asset_spec(manifest, figures, PROJECT)
    spec = translator.get_asset_check_spec(figures_spec, manifest, uid, PROJECT)
    # attached to the tag's asset (meta.dagster.ref), depending on the figures
    assert (spec.asset_key.to_user_string(), spec.name, spec.blocking) == ("tag_models/tag_vip", "quality__vip__coverage", False)
    assert [d.asset_key for d in spec.additional_deps] == [figures_spec.key]
    manifest["nodes"][uid]["config"]["meta"]["when_blocked"] = "hold_night"
    assert translator.get_asset_check_spec(figures_spec, manifest, uid, PROJECT).blocking


def test_a_failed_quality_check_does_not_fail_the_dbt_step_but_any_other_failed_node_does():
    manifest = json.loads(PROJECT.manifest_path.read_text())
    ids = {n["name"]: u for u, n in manifest["nodes"].items()}
    run_results = {"results": [
        {"unique_id": ids["quality__vip__coverage"], "status": "fail", "message": "Got 1 result"},
        {"unique_id": ids["unique_tag_vip_customer_id"], "status": "fail", "message": "Got 3 results"},
        {"unique_id": ids["tag_vip"], "status": "success", "message": "OK"},
        {"unique_id": ids["customer_features"], "status": "error", "message": "Code: 60"},
    ]}
    assert assets.failed_nodes(run_results, manifest) == ["unique_tag_vip_customer_id: Got 3 results",
                                                          "customer_features: Code: 60"]


def test_a_tag_key_selects_its_model_the_outputs_the_catalog_and_the_accuracy_sample():
    rows = catalog.load()
    assert refresh.selectors(["vip"], rows) == ["tag_catalog", "audiences", "audience_catalog_snapshots",
                                                 "customer_bitmap_snapshots", "tag_vip+", "accuracy_sample_customers+"]
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
    assert {f"quality__vip__{check}" for check in ("coverage", "distribution", "stability", "accuracy")} <= checks
    assert "tag_quality" not in {key.name for key in graph.asset_check_keys}  # the Python multi-check is gone
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
