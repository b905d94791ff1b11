"""great-expectations on a run's tag rows, run as SQL in ClickHouse, and its Data Docs rendered without a network."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from orchestration import settings
from orchestration.catalog import catalog, catalog_sync
from orchestration.dagster import dbt_runner
from orchestration.quality import expectations
from tests.integration.known import AS_OF

# Chromium with every request off the machine failing: no proxy answers on port 9, no name resolves.
OFFLINE_CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
                    "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0",
                    "--virtual-time-budget=5000", "--dump-dom"]

# Appended to a copy of the index: what the page looks like once loaded, as JSON in <pre id="probe">.
STYLE_PROBE = """<script>
window.addEventListener('load', function () { setTimeout(function () {
  var navbar = document.querySelector('.navbar'), box = document.querySelector('.container-fluid');
  var icon = document.querySelector('.fas');
  var found = {
    navbar_display: navbar && getComputedStyle(navbar).display,
    container_padding_left: box && getComputedStyle(box).paddingLeft,
    icon_font: icon && getComputedStyle(icon, '::before').fontFamily,
    icon_font_loaded: document.fonts.check('900 16px "Font Awesome 6 Free"'),
    bootstrap_table: typeof (window.jQuery && jQuery.fn.bootstrapTable),
    run_cells: Array.prototype.filter.call(document.querySelectorAll('td'),
                                           function (td) { return td.textContent.indexOf(RUN_ID) >= 0; }).length
  };
  var out = document.createElement('pre'); out.id = 'probe'; out.textContent = JSON.stringify(found);
  document.body.appendChild(out);
}, 500); });
</script>"""


@pytest.fixture(scope="module")
def gx_project(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gx")


@pytest.fixture(scope="module")
def validated(demo_night, client, gx_project) -> expectations.Outcome:
    """The demo night's rows validated into a GX project of the test's own."""
    return expectations.validate_run(client, demo_night.run_id, AS_OF, catalog.load(), project_dir=gx_project)


def rows(client, sql: str, **parameters) -> list[tuple]:
    return client.query(sql, parameters=parameters).result_rows


def test_the_nightly_job_runs_the_blocking_check_before_publishing_and_it_passes(demo_night):
    import dagster as dg

    from orchestration.dagster.definitions import defs

    found = {c.asset: c for c in demo_night.checks if c.check == "expectations"}
    assert set(found) == {"tag_store/tag_snapshots", "tag_store/profile_snapshots"}
    for check in found.values():
        assert check.passed and check.blocking and check.metadata["failed_expectations"] == "none"
        assert Path(check.metadata["data_docs"]) == expectations.data_docs_index() and expectations.data_docs_index().exists()
    # publishing waits for both: a failed one (severity ERROR) stops it
    upstream = {key.to_user_string() for key in defs.resolve_asset_graph().get(dg.AssetKey("published_tags")).parent_keys}
    assert set(found) <= upstream


def test_the_suites_follow_the_catalog_and_pass_on_the_demo_night(validated, gx_project):
    assert validated.success, "\n".join(map(str, validated.failures))
    built = catalog_sync.built(catalog.load())
    suite = json.loads((gx_project / "gx" / "expectations" / "tag_snapshots.json").read_text())
    checked_values = {e["meta"]["tag_key"] for e in suite["expectations"] if e["type"] == "expect_column_values_to_be_in_set"
                      and "tag_key" in e.get("meta", {})}
    assert checked_values == {r.tag_key for r in built if r.value_type == "flag"
                              or (r.value_type in ("label", "labels") and r.method in ("rule", "rfm", "model"))}
    keys = next(e for e in suite["expectations"] if e["kwargs"].get("column") == "tag_key")
    assert sorted(keys["kwargs"]["value_set"]) == sorted(r.tag_key for r in built)
    rfm = next(e for e in suite["expectations"] if e.get("meta", {}).get("tag_key") == "rfm_segment")
    assert set(rfm["kwargs"]["value_set"]) == {"champions", "cannot_lose", "loyal", "at_risk", "new",
                                               "potential_loyalist", "hibernating", "lost"}  # README, the rfm method
    profile = json.loads((gx_project / "gx" / "expectations" / "profile_snapshots.json").read_text())
    bounds = {e["kwargs"]["column"]: (e["kwargs"]["min_value"], e["kwargs"]["max_value"])
              for e in profile["expectations"] if e["type"] == "expect_column_values_to_be_between"}
    assert bounds == {"value_score": (0, 100), "rfm_score": (111, 555)}  # README: a score is 0-100; R*100+F*10+M, each 1-5
    assert validated.evaluated == {"tag_snapshots": len(suite["expectations"]), "profile_snapshots": len(profile["expectations"])}


def test_the_data_stays_in_clickhouse_and_the_password_out_of_the_project(validated, client, gx_project):
    client.command("SYSTEM FLUSH LOGS")
    queries = rows(client, "SELECT count(), max(result_rows) FROM system.query_log WHERE type = 'QueryFinish' "
                           "AND query_kind = 'Select' AND http_user_agent ILIKE '%sqlalchemy%' "
                           "AND (query ILIKE '%tag_snapshots%' OR query ILIKE '%profile_snapshots%')")[0]
    assert queries[0] >= validated.evaluated["tag_snapshots"]  # at least one query per expectation
    assert queries[1] <= 20  # aggregates, and samples of at most 20 unexpected values
    password = settings.connection().password
    assert password
    for path in gx_project.rglob("*"):
        if path.is_file():
            assert password not in path.read_text(errors="replace"), path
    assert f"${{{expectations.PASSWORD_VARIABLE}}}" in (gx_project / "gx" / "great_expectations.yml").read_text()


def _probe(index: Path, run_id: str, tmp_path: Path) -> tuple[dict, list[str]]:
    page = index.with_name("_probe.html")
    page.write_text(index.read_text().replace("</body>", STYLE_PROBE.replace("RUN_ID", json.dumps(run_id)) + "</body>"))
    browser = subprocess.run([*OFFLINE_CHROMIUM, f"--user-data-dir={tmp_path / 'profile'}", page.as_uri()],
                             capture_output=True, text=True, timeout=120)
    page.unlink()
    found = re.search(r'<pre id="probe">(.*?)</pre>', browser.stdout)
    assert found, browser.stderr[-2000:]
    console = [line for line in browser.stderr.splitlines() if ":CONSOLE" in line]
    return json.loads(found.group(1).replace("&quot;", '"')), console


def test_the_data_docs_list_the_run_and_render_styled_without_a_network(validated, demo_night, tmp_path):
    index = validated.data_docs
    for page in index.parent.rglob("*.html"):  # nothing left to load from elsewhere
        loads = re.findall(r"<(?:script|link|img)\b[^>]*\b(?:src|href)=\"((?:https?:)?//[^\"]*)\"", page.read_text())
        assert loads == [], page
    found, console = _probe(index, demo_night.run_id, tmp_path)
    assert console == []
    assert found["navbar_display"] == "flex" and found["container_padding_left"] == "48px"  # bootstrap's .navbar, .pl-5
    assert found["icon_font"] == '"Font Awesome 6 Free"' and found["icon_font_loaded"]
    assert found["bootstrap_table"] == "function"
    assert found["run_cells"] >= 1  # the validation table lists the run

    # the same page without the vendored files: the probe sees the difference
    bare = tmp_path / "site"
    shutil.copytree(index.parent, bare, ignore=shutil.ignore_patterns("vendor"))
    unstyled, _ = _probe(bare / "index.html", demo_night.run_id, tmp_path)
    assert unstyled["navbar_display"] != "flex" and unstyled["bootstrap_table"] != "function"


def test_broken_rows_fail_naming_the_expectation_and_the_tag(validated, demo_night, client, gx_project):
    run_id = demo_night.run_id
    vip = rows(client, "SELECT min(customer_id) FROM tag_store.tag_snapshots WHERE run_id = %(r)s AND tag_key = 'vip'",
               r=run_id)[0][0]
    outsider = rows(client, "SELECT min(customer_id) FROM features.customer_features WHERE customer_id NOT IN "
                            "(SELECT customer_id FROM tag_store.tag_snapshots WHERE run_id = %(r)s AND tag_key = 'category_focus')",
                    r=run_id)[0][0]
    client.command("INSERT INTO tag_store.tag_snapshots (run_id, as_of, tag_key, tag_value, customer_id) "
                   "SELECT %(r)s, %(a)s, 'category_focus', 'martian_goods', %(c)s", parameters={"r": run_id, "a": AS_OF, "c": outsider})
    client.command("INSERT INTO tag_store.tag_snapshots (run_id, as_of, tag_key, tag_value, customer_id) "
                   "SELECT %(r)s, %(a)s, 'vip', '1', %(c)s", parameters={"r": run_id, "a": AS_OF, "c": vip})  # twice now
    try:
        outcome = expectations.validate_run(client, run_id, AS_OF, catalog.load(), project_dir=gx_project)
        # a customer's tag twice in the run is dbt's test (GX no longer repeats it): it fails the build
        with pytest.raises(dbt_runner.DbtFailed, match="one_value_per_customer_in_run_tag_snapshots"):
            dbt_runner.run("test", AS_OF, select=["tag_snapshots,test_name:one_value_per_customer_in_run"], run_id=run_id)
    finally:  # the run's rows as they were
        client.command("ALTER TABLE tag_store.tag_snapshots DELETE WHERE run_id = %(r)s AND (tag_value = 'martian_goods' "
                       "OR (tag_key = 'vip' AND customer_id = %(c)s))", parameters={"r": run_id, "c": vip},
                       settings={"mutations_sync": 2})
        client.command("INSERT INTO tag_store.tag_snapshots (run_id, as_of, tag_key, tag_value, customer_id) "
                       "SELECT %(r)s, %(a)s, 'vip', '1', %(c)s", parameters={"r": run_id, "a": AS_OF, "c": vip})
    failed = {(f.asset, f.expectation, f.tag_key) for f in outcome.failures}
    assert failed == {("tag_snapshots", "expect_column_values_to_be_in_set", "category_focus")}
    label = next(f for f in outcome.failures if f.tag_key == "category_focus")
    assert "'martian_goods' x1" in str(label) and "tag category_focus" in str(label)
    assert outcome.failures_of("profile_snapshots") == []
    assert expectations.validate_run(client, run_id, AS_OF, catalog.load(), project_dir=gx_project).success

    other_day = expectations.validate_run(client, run_id, AS_OF.replace(year=AS_OF.year - 1), catalog.load(),
                                          project_dir=gx_project)
    assert {(f.asset, f.expectation) for f in other_day.failures} == {(name, "rows of the run") for name in expectations.ASSETS}


def test_a_run_whose_rows_fail_an_expectation_publishes_nothing(demo_night, client):
    """Last in the module: the run rebuilds the feature mart as of the next day."""
    import uuid

    import dagster as dg

    from orchestration.dagster.definitions import defs
    from orchestration.dagster.partitions import partition_key
    from orchestration.dagster.schedules import JOB_NAME

    day, run_id = AS_OF + dt.timedelta(days=1), str(uuid.uuid4())
    published = rows(client, "SELECT run_id, as_of FROM tag_store.publish_log ORDER BY published_at")
    # a row of the coming run, which the run's own rows join: a label its rule gives nobody, for an untagged customer
    client.command("INSERT INTO tag_store.tag_snapshots (run_id, as_of, tag_key, tag_value, customer_id) "
                   "SELECT %(r)s, %(a)s, 'category_focus', 'martian_goods', min(customer_id) FROM features.customer_features "
                   "WHERE top_category_share < 0.5", parameters={"r": run_id, "a": day})
    result = defs.resolve_job_def(JOB_NAME).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), run_id=run_id, partition_key=partition_key(day), raise_on_error=False)
    checks = {e.event_specific_data.asset_key.to_user_string(): e.event_specific_data for e in result.all_events
              if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
              and e.event_specific_data.check_name == "expectations"}
    assert not checks["tag_store/tag_snapshots"].passed and checks["tag_store/profile_snapshots"].passed
    assert "martian_goods" in checks["tag_store/tag_snapshots"].metadata["message"].value
    assert not any(e.is_step_materialization and e.asset_key == dg.AssetKey("published_tags") for e in result.all_events)
    assert rows(client, "SELECT run_id, as_of FROM tag_store.publish_log ORDER BY published_at") == published
