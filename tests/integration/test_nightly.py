"""The nightly Dagster job, run in-process on demo data: it publishes only what passed its checks."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time

import pytest

from orchestration.catalog import catalog
from orchestration.dagster import refresh
from tests.conftest import TAGS_COMMAND, free_port, published_state
from tests.integration.known import AS_OF

DAY_2 = AS_OF + dt.timedelta(days=1)


def rows(client, sql: str, **parameters) -> list[tuple]:
    return client.query(sql, parameters=parameters or None).result_rows


def run(day: dt.date, select: list[str] | None = None) -> refresh.RefreshOutcome:
    return refresh.run(day, select, catalog.load())


def test_the_job_builds_checks_and_publishes(demo_night, client):
    assert demo_night.published
    assert rows(client, "SELECT run_id, as_of FROM tag_store.publish_log") == [(demo_night.run_id, AS_OF)]
    customers = rows(client, "SELECT count() FROM features.customer_features")[0][0]
    # one row per person: the demo's 2,000 accounts, some stitched together
    stitched = rows(client, "SELECT uniqExact(stitched_customer_id) FROM identity.stitched_customers")[0][0]
    assert rows(client, "SELECT count() FROM tags.customer_profile")[0][0] == customers == stitched < 2000
    assert rows(client, "SELECT uniqExact(tag_key) FROM tags.customer_tags")[0][0] >= 30
    # the quality checks are dbt tests, asset checks on the tag's asset with the figures of check_results
    kinds = {(c.check, c.metadata["check"], c.passed) for c in demo_night.checks
             if c.asset == "tag_models/tag_vip" and c.check.startswith("quality__")}
    assert kinds == {(f"quality__vip__{check}", check, True) for check in ("coverage", "distribution", "stability",
                                                                           "accuracy")}
    vip = next(c for c in demo_night.checks if c.check == "quality__vip__coverage")
    figures = rows(client, f"SELECT coverage, coverage_min, coverage_max FROM quality.tag_quality_figures "
                           f"WHERE run_id = '{demo_night.run_id}' AND tag_key = 'vip'")
    assert [(vip.metadata["observed"], vip.metadata["expected"])] == [(c, f"{lo:g} to {hi:g}") for c, lo, hi in figures]
    results = rows(client, f"SELECT check, count() FROM quality.check_results WHERE run_id = '{demo_night.run_id}' "
                           "GROUP BY check ORDER BY check")
    built = [r for r in catalog.load() if r.status != "archived"]
    assert dict(results) == {"accuracy": len([r for r in built if r.method in ("rule", "score", "manual")]),
                             "coverage": len(built), "distribution": len(built), "stability": len(built),
                             "auc": len([r for r in built if r.method == "model"])}


def test_the_run_is_recorded_in_the_dagster_instance_the_ui_opens(demo_night, client, server):
    import dagster as dg

    from orchestration.dagster import instance as dagster_instance
    from orchestration.dagster.schedules import JOB_NAME

    assert dagster_instance.prepared_home() == server.root / "dagster"  # DAGSTER_HOME, as `tags ui` opens it
    with dagster_instance.instance() as instance:
        run = instance.get_run_by_id(demo_night.run_id)
        assert run.status == dg.DagsterRunStatus.SUCCESS and run.job_name == JOB_NAME
        assert run.tags["dagster/partition"] == AS_OF.isoformat()
        checks = instance.get_records_for_run(demo_night.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
        assert len(checks.records) == len(demo_night.checks) > 100
        materialized = {r.event_log_entry.dagster_event.asset_key.to_user_string(): r.event_log_entry.asset_materialization
                        for r in instance.get_records_for_run(demo_night.run_id,
                                                              of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records}
    assert {"published_tags", "quality_report", "tag_models/tag_vip"} <= materialized.keys()
    vip = materialized["tag_models/tag_vip"].metadata
    members = rows(client, "SELECT count() FROM tags.customer_tags WHERE tag_key = 'vip'")[0][0]
    assert members > 0 and vip["members"].value == members
    customers = rows(client, "SELECT count() FROM features.customer_features")[0][0]
    assert vip["coverage_pct"].value == pytest.approx(100 * members / customers, abs=1e-3)
    assert vip["Execution Duration"].value > 0
    assert materialized["published_tags"].metadata["run_id"].value == demo_night.run_id


def test_freshness_is_the_delay_from_the_newest_fact_to_publishing(demo_night, client):
    check = next(c for c in demo_night.checks if c.check == "freshness")
    # dbt source freshness: the newest order, event or ticket up to the end of as_of, against its clock
    end = dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time())
    newest = {table: rows(client, f"SELECT max({column}) FROM raw.{table} WHERE {column} < %(end)s", end=end)[0][0]
              for table, column in (("orders", "ordered_at"), ("events", "event_at"), ("tickets", "opened_at"))}
    assert check.metadata["newest_fact_at"] == str(max(newest.values()))
    published_at = rows(client, "SELECT toDateTime(published_at) FROM tag_store.publish_log")[0][0]
    checked_at = dt.datetime.fromisoformat(check.metadata["checked_at"])
    assert dt.timedelta(0) <= checked_at - published_at.replace(tzinfo=None) < dt.timedelta(minutes=5)
    for table, at in newest.items():
        assert check.metadata[f"raw.{table}_hours"] == round(max(0.0, (checked_at - at).total_seconds() / 3600), 2)
    hours = check.metadata["delay_hours"]
    assert hours == min(check.metadata[f"raw.{table}_hours"] for table in newest)
    assert check.metadata["status"] == ("healthy" if hours <= 24 else "warning" if hours <= 72 else "risk")
    assert check.passed == (check.metadata["status"] != "risk")


@pytest.mark.slow
def test_a_killed_refresh_leaves_the_published_tags_whole_and_the_next_run_succeeds(demo_night, client):
    before = published_state(client)
    process = subprocess.Popen([TAGS_COMMAND, "refresh", "--as-of", DAY_2.isoformat()], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    for line in process.stdout:  # kill it in the middle of building the tag models
        if "START sql table model `tag_models`" in line:
            time.sleep(1)
            break
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert published_state(client) == before

    outcome = run(DAY_2)
    assert outcome.success and outcome.published, outcome.failures
    assert rows(client, "SELECT as_of FROM tags.customer_tags LIMIT 1")[0][0] == DAY_2
    # the killed run's rows are gone: the store holds one run per published day
    assert rows(client, "SELECT uniqExact(run_id) FROM tag_store.tag_snapshots")[0][0] == 2


@pytest.mark.slow
def test_stability_and_drift_of_the_second_night_match_hand_computed_values(demo_night, client):
    import math

    run_id = rows(client, f"SELECT argMax(run_id, published_at) FROM tag_store.publish_log WHERE as_of = '{DAY_2}'")[0][0]
    observed = {(k, c): v for k, c, v in rows(client, "SELECT tag_key, check, observed FROM quality.check_results "
                                                      f"WHERE run_id = '{run_id}'")}
    members = dict(rows(client, f"SELECT tag_key, count() FROM tags.tag_history WHERE as_of = '{DAY_2}' GROUP BY tag_key"))
    before = dict(rows(client, f"SELECT tag_key, count() FROM tags.tag_history WHERE as_of = '{AS_OF}' GROUP BY tag_key"))
    changes = {k: (n, removed) for k, n, removed in rows(
        client, f"SELECT tag_key, count(), countIf(change = 'removed') FROM tags.tag_changes WHERE as_of = '{DAY_2}' "
                "GROUP BY tag_key")}
    customers = rows(client, "SELECT count() FROM features.customer_features")[0][0]
    flags = [r.tag_key for r in catalog.load() if r.value_type == "flag" and r.status == "active"]
    for tag_key in flags:
        changed, removed = changes.get(tag_key, (0, 0))
        touched = members.get(tag_key, 0) + removed
        assert observed[tag_key, "stability"] == pytest.approx(changed / touched if touched else 0.0), tag_key
        # a flag's PSI over the shares tagged / untagged, an empty share floored at 0.0001
        now, then = members.get(tag_key, 0) / customers, before.get(tag_key, 0) / customers
        psi = sum((max(a, 1e-4) - max(e, 1e-4)) * math.log(max(a, 1e-4) / max(e, 1e-4))
                  for a, e in ((now, then), (1 - now, 1 - then)))
        assert observed[tag_key, "distribution"] == pytest.approx(psi, abs=1e-9), tag_key

    # a label's buckets are its values, a number's the deciles of the previous run (quantileExact: the
    # value at index floor(level * n) of the sorted values); both with an untagged bucket
    def values(day, tag_key):
        return [v for (v,) in rows(client, f"SELECT tag_value FROM tags.tag_history WHERE as_of = '{day}' "
                                           f"AND tag_key = '{tag_key}'")]

    def shares(buckets: list[str]) -> dict[str, float]:
        found = {b: buckets.count(b) / customers for b in set(buckets)}
        return found | {"untagged": 1 - len(buckets) / customers}

    kinds = {r.tag_key: r.value_type for r in catalog.load() if r.status == "active"}
    label = next(k for k, t in kinds.items() if t == "label")
    number = next(k for k, t in kinds.items() if t == "number")
    before_numbers = sorted(float(v) for v in values(AS_OF, number))
    edges = sorted({before_numbers[int(level / 10 * len(before_numbers))] for level in range(1, 10)})
    decile = lambda v: f"decile {sum(float(v) > e for e in edges)}"  # noqa: E731
    for tag_key, bucket in ((label, str), (number, decile)):
        now, then = (shares([bucket(v) for v in values(day, tag_key)]) for day in (DAY_2, AS_OF))
        psi = sum((max(now.get(b, 0), 1e-4) - max(then.get(b, 0), 1e-4))
                  * math.log(max(now.get(b, 0), 1e-4) / max(then.get(b, 0), 1e-4)) for b in set(now) | set(then))
        assert observed[tag_key, "distribution"] == pytest.approx(psi, abs=1e-9), tag_key


def members_of(client, *tag_keys: str) -> dict[str, set]:
    found = {key: set() for key in tag_keys}
    for key, customer_id in rows(client, "SELECT tag_key, customer_id FROM tags.customer_tags WHERE tag_key IN "
                                         f"({', '.join(repr(k) for k in tag_keys)})"):
        found[key].add(customer_id)
    return found


@pytest.fixture
def alert_receivers(httpserver, monkeypatch):
    """A local SMTP server and a local HTTP receiver standing in for Slack, named in the alert variables."""
    import email
    import email.policy
    import json

    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
            return "250 OK"

    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    httpserver.expect_request("/services/T0/B0/x", method="POST").respond_with_data("ok")
    for name, value in {"TAGS_ALERT_SLACK_WEBHOOK": httpserver.url_for("/services/T0/B0/x"),
                        "TAGS_ALERT_SMTP_HOST": "127.0.0.1", "TAGS_ALERT_SMTP_PORT": str(smtp.port),
                        "TAGS_ALERT_EMAIL_TO": "ops@example.com, data@example.com",
                        "TAGS_REPORT_URL": "https://tags.example/reports/quality/",
                        "TAGS_DAGSTER_URL": "http://dagster.example:3000"}.items():
        monkeypatch.setenv(name, value)
    try:
        yield {"slack": lambda: [json.loads(request.get_data())["text"] for request, _ in httpserver.log],
               "mail": inbox.messages}
    finally:
        smtp.stop()


def test_a_failed_night_alerts_on_slack_and_by_email_naming_what_failed(demo_night, client, alert_receivers,
                                                                         monkeypatch):
    before = published_state(client)
    monkeypatch.setenv("TAG_HISTORY_RETENTION_DAYS", "forever")  # stops the run at its first step
    outcome = run(DAY_2)
    assert not outcome.success and not outcome.published
    assert published_state(client) == before
    [slack] = alert_receivers["slack"]()
    [mail] = alert_receivers["mail"]
    assert slack.startswith(f"customer tags: the night of {DAY_2} failed at dbt_models")
    assert "TAG_HISTORY_RETENTION_DAYS must be a whole number of days" in slack
    assert "nothing was published: BI keeps reading the last published night" in slack
    assert "Quality report: https://tags.example/reports/quality/" in slack
    assert f"Run in Dagster: http://dagster.example:3000/runs/{outcome.run_id}" in slack
    assert mail["Subject"] == f"customer tags: the night of {DAY_2} failed at dbt_models"
    assert mail["To"] == "ops@example.com, data@example.com"
    assert mail.get_content().replace("\r\n", "\n").strip() == slack.strip()
    # a healthy night tells no one
    monkeypatch.delenv("TAG_HISTORY_RETENTION_DAYS")
    healthy = run(DAY_2)
    assert healthy.published and not healthy.held and not [c for c in healthy.checks if not c.passed and c.blocking]
    assert len(alert_receivers["slack"]()) == len(alert_receivers["mail"]) == 1


def test_a_rule_change_that_halves_a_tag_fails_its_blocking_check_and_holds_that_tag(demo_night, client,
                                                                                        alert_receivers):
    before = members_of(client, "vip_diamond")
    # vip_diamond blocks on stability: raise its threshold to the members' median lifetime spend
    median = rows(client, "SELECT median(spend_total) FROM features.customer_features WHERE spend_total > 20000")[0][0]
    shipped = catalog.CATALOG_FILE.read_text()
    changed = shipped.replace(",min_spend_total=20000,", f",min_spend_total={median:.2f},")
    assert changed != shipped
    try:
        # the catalog edited as a person would (the tag model's meta follows it): compared with the first night
        catalog.CATALOG_FILE.write_text(changed)
        refresh.prepare(catalog.load(), DAY_2)
        outcome = run(DAY_2, ["tag_vip_diamond+", "accuracy_sample_customers+"])
    finally:
        catalog.CATALOG_FILE.write_text(shipped)
        refresh.prepare(catalog.load(), DAY_2)
    # when_blocked = hold_tag: the tag keeps its published members, the run publishes the rest
    assert outcome.success and outcome.published and outcome.held == ["vip_diamond"], outcome.failures
    failed = [c for c in outcome.checks if not c.passed and c.asset != "published_tags"]  # freshness: old demo data
    assert [(c.asset, c.check, c.metadata["check"], c.blocking) for c in failed] == [
        ("tag_models/tag_vip_diamond", "quality__vip_diamond__stability", "stability", True)]
    assert 0.4 < failed[0].metadata["observed"] < 0.6
    assert "share of its customers whose value changed 0.5" in failed[0].metadata["message"]
    assert failed[0].metadata["outcome"].startswith("holds this tag")
    assert members_of(client, "vip_diamond") == before
    assert rows(client, "SELECT tag_key, stale FROM tags.tag_catalog WHERE stale") == [("vip_diamond", 1)]
    # the night published, the held tag is told: on Slack and by e-mail, with the failed check's own message
    [slack] = alert_receivers["slack"]()
    assert slack.startswith(f"customer tags: the night of {DAY_2} was published with 1 tag(s) held at their last "
                            "published values: vip_diamond")
    assert f"tag_models/tag_vip_diamond quality__vip_diamond__stability: {failed[0].metadata['message']}" in slack
    assert [m["Subject"] for m in alert_receivers["mail"]] == [slack.splitlines()[0]]


def test_a_bug_between_staging_and_tags_is_caught_by_the_independent_path(demo_night, client):
    before = members_of(client, "interest")
    # the bug: the per-category model counts every order twice (category_orders feeds the interest tag)
    client.command("ALTER TABLE features.int_customer_categories UPDATE orders = orders * 2 WHERE 1",
                   settings={"mutations_sync": 1})
    outcome = run(DAY_2, ["customer_features+", "accuracy_sample_customers+"])
    failed = {c.asset.split("/")[-1]: c for c in outcome.checks if not c.passed and c.metadata.get("check") == "accuracy"}
    assert "tag_interest" in failed, sorted(failed)
    message = failed["tag_interest"].metadata["message"]
    assert "sampled customers disagree with the independent recomputation" in message
    # (the held-tag rebuild leaves the quality models alone, so the run's check results keep the finding)
    assert rows(client, f"SELECT count() FROM quality.check_results WHERE run_id = '{outcome.run_id}' "
                        "AND tag_key = 'interest' AND check = 'accuracy' AND NOT passed")[0][0] == 1
    # the tag whose accuracy failed is held at its published members (when_blocked = hold_tag)
    assert outcome.published and "interest" in outcome.held
    assert members_of(client, "interest") == before


def test_hygiene_figures_match_hand_computed_ones(demo_night, client, server):
    import clickhouse_connect

    from orchestration.audiences import audiences
    from orchestration.quality import hygiene
    from orchestration.warehouse import bi_access
    from tests.conftest import BI_TEST_PASSWORD

    bi = clickhouse_connect.get_client(host="127.0.0.1", port=server.http_port, username=bi_access.BI_USER,
                                       password=BI_TEST_PASSWORD, autogenerate_session_id=False)
    bi.command("SELECT count() FROM tags.customer_tags WHERE tag_key = 'vip'")
    bi.command("SELECT countIf(churn_risk) FROM tags.customer_profile")
    client.command("SELECT countIf(influencer) FROM tags.customer_profile")  # the pipeline's own query: not use
    client.command("SYSTEM FLUSH LOGS")
    rows_ = catalog.load()
    found = hygiene.measure(client, rows_, DAY_2)

    active = [r.tag_key for r in rows_ if r.is_active]
    queries = [q for (q,) in rows(client, "SELECT query FROM system.query_log WHERE type = 'QueryFinish' "
                                          "AND query_kind = 'Select' AND has(databases, 'tags') AND user != 'default'")]
    import re
    by_queries = {k for k in active if any(re.search(rf"\b{k}\b", q) for q in queries)}
    # every published night of this module is AS_OF or later: the audiences live then were built
    by_audiences = {k for a in audiences.load() if a.expires_on >= AS_OF for k in audiences.tags_used(a.expression)}
    used = sorted(by_queries | by_audiences)
    assert {"vip", "churn_risk"} <= by_queries and "influencer" not in used
    assert found.used == used and found.usage_rate == pytest.approx(len(used) / len(active))
    assert found.total_active == len(active) == 37
    assert hygiene.total_tags_status(found.total_active) == "warning"  # over 35, not over 50
    assert found.zombies == []  # every tag was first published days ago, well under 90

    members: dict[str, set[str]] = {}
    for customer_id, tag_key in rows(client, "SELECT customer_id, tag_key FROM tags.customer_tags"):
        members.setdefault(tag_key, set()).add(customer_id)
    flags = [r.tag_key for r in rows_ if r.is_active and r.value_type == "flag" and r.tag_key in members]
    jaccard = {(a, b): len(members[a] & members[b]) / len(members[a] | members[b])
               for a in flags for b in flags if a < b}
    assert found.overlap[("awaiting_reactivation", "churn_risk")] == pytest.approx(jaccard[("awaiting_reactivation", "churn_risk")])
    assert {(a, b) for a, b, _ in found.merge_pairs} == {pair for pair, j in jaccard.items() if j >= 0.85}


def test_quality_report_renders_in_headless_chromium_without_console_errors(demo_night, client, tmp_path):
    from orchestration.quality import report

    path = report.write(client, catalog.load(), path=tmp_path / "index.html")
    browser = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
         "--dump-dom", path.as_uri()], capture_output=True, text=True, timeout=120)
    console = [line for line in browser.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    dom = browser.stdout
    assert dom.count('class="main-svg"') >= 5  # plotly drew both number tags' histograms, the distributions, 2 heatmaps
    assert f"Tag quality as of {DAY_2}" in dom
    for text in ("vip_diamond", "drift (PSI)", "Catalog hygiene", "usage_rate", "Member overlap of flag tags",
                 "rfm_score: customers per bin", "probably one audience under two names"):
        assert text in dom
    # the summary first, then what failed, then every tag; tags needing someone before the ones that passed
    assert dom.index(f"Tags as of {DAY_2}: published.") < dom.index("Needs attention") < dom.index("<h2>Tags</h2>")
    import re

    tags_table = dom[dom.index('<table class="tags">'):]
    tags_table = tags_table[:tags_table.index("</table>")]
    statuses = re.findall(r">(held \(stale\)|blocked|warning|passed)</td>", tags_table)
    ranks = [{"held (stale)": 0, "blocked": 0, "warning": 1, "passed": 2}[s] for s in statuses]
    assert len(statuses) == len([r for r in catalog.load() if r.status != "archived"]) and ranks == sorted(ranks)
    assert tags_table.count('class="spark"') == len(statuses)  # a coverage sparkline per tag
    assert re.search(r"<td>vip</td><td>[^<]+</td><td>value</td><td>[\d,]+</td><td>\d+\.\d+ %</td>", tags_table)
    # a page per day is kept; the index lists them
    assert (tmp_path / f"{DAY_2}.html").exists() and f"<b>{DAY_2}</b>" in dom


def test_review_sheet_round_trip_gives_human_accuracy_per_tag(demo_night, client, tmp_path):
    import csv

    from typer.testing import CliRunner

    from orchestration import cli

    sheet = tmp_path / "review.csv"
    result = CliRunner().invoke(cli.app, ["quality", "review-sample", "--out", str(sheet), "--customers", "20"])
    assert result.exit_code == 0, result.output
    with sheet.open(newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert lines and len({r["customer_id"] for r in lines}) <= 20
    assert all(r["verdict"] == "" and r["spend_365d"] != "" for r in lines)
    # the reviewer finds 2 of the country tags wrong and checks nothing else
    country = [r for r in lines if r["tag_key"] == "country"]
    for number, row in enumerate(country):
        row["verdict"] = "wrong" if number < 2 else "Correct"
    with sheet.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(lines[0]))
        writer.writeheader()
        writer.writerows(lines)

    result = CliRunner().invoke(cli.app, ["quality", "review-import", str(sheet)])
    assert result.exit_code == 0, result.output
    accuracy = (len(country) - 2) / len(country)
    expected_status = "healthy" if accuracy > 0.95 else "risk" if accuracy < 0.85 else "warning"
    assert f"{accuracy:.1%}" in result.output and expected_status in result.output
    stored = rows(client, "SELECT verdict, count() FROM quality.review_verdicts GROUP BY verdict ORDER BY verdict")
    assert stored == [("correct", len(country) - 2), ("wrong", 2)]

    lines[0]["verdict"] = "maybe"
    with sheet.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(lines[0]))
        writer.writeheader()
        writer.writerows(lines)
    result = CliRunner().invoke(cli.app, ["quality", "review-import", str(sheet)])
    assert result.exit_code == 1
    assert "review.csv line 2, column verdict: 'maybe' is not correct or wrong; nothing was imported" in " ".join(result.output.split())


def test_every_table_in_quality_has_comments_the_bi_user_reads(demo_night, client, server):
    """Every table in `quality` (whoever builds it) has a table comment and a comment on every column,
    and bi_reader, the user BI tools log in as, reads the same comments."""
    import clickhouse_connect

    from orchestration.warehouse import bi_access
    from tests.conftest import BI_TEST_PASSWORD

    def comments(reader) -> tuple[set, set]:
        tables = set(reader.query("SELECT name, comment FROM system.tables WHERE database = 'quality'").result_rows)
        columns = set(reader.query("SELECT table, name, comment FROM system.columns WHERE database = 'quality'").result_rows)
        return tables, columns

    tables, columns = comments(client)
    assert {"hygiene", "review_verdicts", "check_results"} <= {name for name, _ in tables}
    bi = clickhouse_connect.get_client(host="127.0.0.1", port=server.http_port, username=bi_access.BI_USER,
                                       password=BI_TEST_PASSWORD, autogenerate_session_id=False)
    assert comments(bi) == (tables, columns)
    uncommented = sorted([f"table {name}" for name, comment in tables if not comment.strip()]
                         + [f"column {table}.{name}" for table, name, comment in columns if not comment.strip()])
    assert uncommented == [], "\n".join(uncommented)
