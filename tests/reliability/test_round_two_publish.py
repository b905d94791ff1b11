"""Round two of the outside probe (issue 16): catalog text as data, the rule allow-list, one run
published whole (backfills, a kill right after the publish row).

Each scenario was reproduced against the code before the fix and fails there.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import signal
import subprocess
import time

import pytest
from typer.testing import CliRunner

from orchestration import cli
from orchestration.catalog import catalog, catalog_sync, rules, validation
from tests.conftest import BI_TEST_PASSWORD, TAGS_COMMAND, published_state, tags_cli
from tests.integration.known import AS_OF
from tests.reliability.conftest import record
from tests.reliability.test_bad_input import catalog_with

BACKFILL_DAY = AS_OF - dt.timedelta(days=12)
DAY_2 = AS_OF + dt.timedelta(days=1)
PROJECT = catalog.PROJECT_DIR


def run_days(client) -> dict[str, object]:
    """The as_of every published table shows now: one run means one day everywhere."""
    def day(sql: str) -> dt.date:
        return dt.date.fromisoformat(str(client.command(sql)))
    return {
        "customer_tags": day("SELECT any(as_of) FROM tags.customer_tags"),
        "customer_profile": day("SELECT any(as_of) FROM tags.customer_profile"),
        "tag_catalog": day("SELECT any(as_of) FROM tags.tag_catalog"),
        "tag_bitmaps": day("SELECT any(as_of) FROM tags.tag_bitmaps"),
    }


def profile_agrees_with_long_table(client) -> bool:
    """The profile's vip column and customers are the long table's (the same run's)."""
    profile = client.query("SELECT count(), sum(vip) FROM tags.customer_profile").result_rows[0]
    long = client.query("SELECT (SELECT any(customer_count) FROM tags.tag_catalog), "
                        "countIf(tag_key = 'vip') FROM tags.customer_tags").result_rows[0]
    return tuple(profile) == tuple(long)


# --- 1. catalog and audience text is data, never a template ----------------------------------------

SECRET_DESCRIPTION = "VIP. {{ env_var('TAGS_BI_PASSWORD') }}"


@pytest.mark.parametrize("column, value", [
    ("description", SECRET_DESCRIPTION),
    ("description", "{{ run_query('select 1') }}"),
    ("owner", "{% do log(env_var('TAGS_BI_PASSWORD'), info=true) %}"),
    ("updated_by", "{# hidden #}"),
])
def test_jinja_in_a_catalog_cell_is_refused_naming_line_tag_and_column(tmp_path, column, value):
    errors = catalog_sync.validate_all(catalog.load(catalog_with(tmp_path / "tag_catalog.csv", column, value)))
    assert any(str(e).startswith(f"tag_catalog.csv line 2 (vip), column {column}: ") and "template" in e.message
               for e in errors), [str(e) for e in errors]


def test_jinja_in_an_audience_cell_is_refused(tmp_path):
    text = catalog_sync.audiences.AUDIENCES_FILE.read_text().splitlines()
    header, first = text[0].split(","), text[1]
    path = tmp_path / "audiences.csv"
    path.write_text("\n".join([text[0], first.replace(first.split(",")[1], "{{ env_var('TAGS_BI_PASSWORD') }}", 1)]) + "\n")
    errors = catalog_sync.audiences.validate(catalog_sync.audiences.load(path), catalog.load())
    assert any(e.column == header[1] and "template" in e.message for e in errors), [str(e) for e in errors]


def test_a_secret_in_a_description_never_reaches_bi_or_dbt_artifacts(demo_night, client, tmp_path, monkeypatch):
    before = published_state(client)
    started = time.time()
    bad = catalog_with(tmp_path / "tag_catalog.csv", "description", SECRET_DESCRIPTION)
    monkeypatch.setattr(catalog, "load", functools.partial(catalog.load, bad))
    result = CliRunner().invoke(cli.app, ["refresh", "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 1, result.output
    assert "tag_catalog.csv line 2 (vip), column description" in " ".join(result.output.split())
    assert "nothing was built" in result.output
    assert published_state(client) == before
    comments = client.query("SELECT comment FROM system.columns WHERE database = 'tags'").result_rows
    assert not any(BI_TEST_PASSWORD in c[0] for c in comments)
    written = [p for folder in (PROJECT / "target", PROJECT / "logs") if folder.exists() for p in folder.rglob("*")
               if p.is_file() and p.stat().st_mtime >= started]
    assert not [p for p in written if BI_TEST_PASSWORD in p.read_text(errors="replace")]
    record(client, "security", "`{{ env_var(...) }}` / `{{ run_query(...) }}` / `{% %}` in catalog and audience text", 6,
           "refused by `tags catalog validate` naming line, tag and column; nothing rendered, built or logged")


# --- 6. rules: an allow-list of deterministic functions ---------------------------------------------

PROBED_FUNCTIONS = {
    "initialQueryStartTime() > toDateTime('2026-01-01 00:00:00')": "initialQueryStartTime",
    "uptime() > 1": "uptime", "generateSnowflakeID() > 0": "generateSnowflakeID",
    "generateULID() != ''": "generateULID", "fuzzBits(country, 0.5) = 'DE'": "fuzzBits",
    "catboostEvaluate('/etc/passwd', orders_30d) > 0": "catboostEvaluate",
    "filesystemAvailable() > 0": "filesystemAvailable", "hostName() = 'x'": "hostName",
    "getSetting('max_threads') > 1": "getSetting", "currentUser() = 'default'": "currentUser",
    "throwIf(orders_30d > 1) = 0": "throwIf",
}


@pytest.mark.parametrize("rule, function", PROBED_FUNCTIONS.items())
def test_a_rule_calling_a_function_off_the_allow_list_is_refused_naming_it(rule, function):
    row = catalog.load()[0]
    errors = validation.validate([catalog.CatalogRow(**{**row.__dict__, "rule": rule, "params": {}})])
    assert any(e.column == "rule" and f"{function}()" in e.message for e in errors), [str(e) for e in errors]


@pytest.mark.parametrize("rule", ["intDiv(spend_365d, orders_30d) > 100", "modulo(orders_30d, orders_90d) = 1",
                                  "orders_30d % orders_90d = 1", "orders_30d DIV orders_90d > 1"])
def test_a_rule_that_can_divide_by_zero_at_run_time_is_refused(rule):
    row = catalog.load()[0]
    errors = validation.validate([catalog.CatalogRow(**{**row.__dict__, "rule": rule, "params": {}})])
    assert any(e.column == "rule" and "divisor is 0" in e.message for e in errors), [str(e) for e in errors]


def test_the_allow_list_names_real_functions(client):
    """Against the engine: every allowed name is a ClickHouse function (a typo would leave a real
    function refused and nobody the wiser)."""
    known = {r[0].lower() for r in client.query("SELECT name FROM system.functions").result_rows}
    known |= {r[0].lower() for r in client.query("SELECT alias_to FROM system.functions WHERE alias_to != ''").result_rows}
    assert sorted(rules.RULE_FUNCTIONS - known - {"cast"}) == []
    record(client, "security", "rules calling clocks, chance, files, settings, the server or throwIf; integer "
           "division by a column", len(PROBED_FUNCTIONS) + 4, "refused by validate, the function named")


# --- 2. every published table follows one run -------------------------------------------------------

@pytest.mark.slow
def test_a_backfill_joins_the_history_without_replacing_the_published_day(demo_night, client):
    assert set(run_days(client).values()) == {AS_OF}
    result = tags_cli("refresh", "--as-of", BACKFILL_DAY.isoformat())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "into the history" in " ".join(result.stdout.split())
    assert set(run_days(client).values()) == {AS_OF}  # the profile too
    assert profile_agrees_with_long_table(client)
    assert client.command(f"SELECT count() > 0 FROM tags.tag_history WHERE as_of = '{BACKFILL_DAY}'")

    # asked for, a backfill becomes what BI reads, every table at once
    result = tags_cli("refresh", "--as-of", BACKFILL_DAY.isoformat(), "--publish")
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(run_days(client).values()) == {BACKFILL_DAY}
    assert profile_agrees_with_long_table(client)

    # the next run of the later day is current again and compares with the previous as_of
    result = tags_cli("refresh", "--as-of", AS_OF.isoformat())
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(run_days(client).values()) == {AS_OF}
    compared = client.command(f"SELECT count() FROM tags.tag_changes WHERE as_of = '{AS_OF}'")
    previous = client.command(f"SELECT count() FROM tags.tag_history WHERE as_of = '{BACKFILL_DAY}'")
    assert previous > 0 and compared < client.command("SELECT count() FROM tags.customer_tags")
    record(client, "publish", "backfill of an earlier as_of, then `--publish`, then the later day again", 3,
           "every table on one day throughout; history keeps both")


@pytest.mark.slow
def test_a_refresh_killed_right_after_its_publish_row_leaves_one_whole_run(demo_night, client):
    runs_before = client.command("SELECT count() FROM tag_store.publish_log")
    process = subprocess.Popen([TAGS_COMMAND, "refresh", "--as-of", DAY_2.isoformat()], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True, env=os.environ.copy())
    deadline = time.monotonic() + 900
    while client.command("SELECT count() FROM tag_store.publish_log") == runs_before:
        assert process.poll() is None and time.monotonic() < deadline, "the refresh ended before publishing"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    time.sleep(2.5)  # past the row's published_at
    assert set(run_days(client).values()) == {DAY_2}
    assert profile_agrees_with_long_table(client)
    # the next run finishes the housekeeping the killed one did not do
    result = tags_cli("refresh", "--as-of", DAY_2.isoformat())
    assert result.returncode == 0, result.stdout + result.stderr
    assert client.command("SELECT uniqExact(run_id) FROM tag_store.profile_snapshots") == 1
    record(client, "fault", "refresh SIGKILLed the moment its publish_log row appeared", 1,
           "every table, the profile included, shows the new run; the next run cleans up")


# --- 8. a blocking check holds its own tag, not the night ------------------------------------------

TODAY = dt.date.today()  # `tags tag add` assigns at the warehouse's clock: only an as_of of today counts it


def influencers(client) -> int:
    return client.command("SELECT count() FROM tags.customer_tags WHERE tag_key = 'influencer'")


@pytest.fixture
def everyone_an_influencer(demo_night, client):
    """Every customer added to the manual tag influencer (coverage at most 0.05, blocking): taken back after."""
    ids = [r[0] for r in client.query("SELECT customer_id FROM raw.customers").result_rows]
    assert tags_cli("tag", "add", "influencer", *ids).returncode == 0
    yield ids
    assert tags_cli("tag", "remove", "influencer", *ids).returncode == 0


@pytest.mark.slow
def test_a_failed_blocking_check_holds_its_own_tag_while_the_others_publish(everyone_an_influencer, client):
    published_day = dt.date.fromisoformat(str(client.command("SELECT any(as_of) FROM tags.tag_catalog")))
    # the published members (BI already shows the adds, live: tags.manual_tag_members)
    members_before = client.command("SELECT member_count FROM tags.tag_catalog WHERE tag_key = 'influencer'")
    assert influencers(client) == len(everyone_an_influencer)
    result = tags_cli("refresh", "--as-of", TODAY.isoformat())
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 0, output
    assert "HOLDS TAG tag_models/tag_influencer coverage" in output and "held back" in output, output
    assert set(run_days(client).values()) == {TODAY}  # every other tag published tonight
    stale = client.query("SELECT tag_key, member_count, values_as_of FROM tags.tag_catalog WHERE stale").result_rows
    assert [(key, count, str(day)) for key, count, day in stale] == [("influencer", members_before, str(published_day))]
    assert influencers(client) == members_before < len(everyone_an_influencer)
    assert client.command("SELECT sum(influencer) FROM tags.customer_profile") == members_before
    assert client.command(f"SELECT count() FROM tags.tag_changes WHERE as_of = '{TODAY}' AND tag_key = 'influencer'") == 0
    assert profile_agrees_with_long_table(client)
    report = (PROJECT / "reports" / "quality" / "index.html").read_text()
    assert "Held back tonight" in report and "influencer (values of " in report
    record(client, "quality", "every customer added to a manual tag: its blocking coverage check fails", 1,
           "that tag keeps its published members, flagged stale; the other 35 publish")


@pytest.mark.slow
def test_when_blocked_hold_night_still_stops_the_whole_night(everyone_an_influencer, client):
    before = published_state(client)
    shipped = catalog.CATALOG_FILE.read_text()
    changed = shipped.replace(next(line for line in shipped.splitlines() if line.startswith("influencer,")),
                              next(line for line in shipped.splitlines() if line.startswith("influencer,"))
                              .replace(",hold_tag,", ",hold_night,"))
    assert changed != shipped
    try:
        catalog.CATALOG_FILE.write_text(changed)
        result = tags_cli("refresh", "--as-of", TODAY.isoformat())
    finally:
        catalog.CATALOG_FILE.write_text(shipped)
        catalog_sync.sync(catalog.load())  # the generated quality checks carry when_blocked: back to the shipped one
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 1 and "BLOCKING tag_models/tag_influencer coverage" in output, output
    assert "nothing was published" in output
    assert published_state(client) == before
    record(client, "quality", "the same with the tag's when_blocked = hold_night", 1, "nothing published, as configured")
