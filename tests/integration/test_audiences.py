"""Audiences on a real server: bitmap answers against the long table, exports against raw consents,
holdouts, priorities, the change feed, and the read-only BI door."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlalchemy
from typer.testing import CliRunner

from orchestration import settings
from orchestration.audiences import audiences
from orchestration.audiences import exports
from orchestration.catalog import catalog
from orchestration.cli import app
from orchestration.dagster import refresh
from orchestration.warehouse import bi_access
from tests.conftest import BI_TEST_PASSWORD
from tests.integration.known import AS_OF

DAY_2 = AS_OF + dt.timedelta(days=1)
CUSTOMERS = 2000  # the demo night's (tests/conftest.py)


def rows(client, sql: str, **parameters) -> list[tuple]:
    return client.query(sql, parameters=parameters or None).result_rows


def members_of(client, audience_key: str) -> set[str]:
    return {r[0] for r in rows(client, "SELECT customer_id FROM audiences.audience_members WHERE audience_key = %(k)s",
                               k=audience_key)}


def ids(path: Path) -> list[str]:
    with path.open(newline="") as file:
        return [row["customer_id"] for row in csv.DictReader(file)]


@pytest.fixture(scope="module")
def night(demo_night):
    return demo_night


@pytest.fixture(scope="module")
def long(night, client):
    """Memberships from the long table: flag -> customers, (label or number tag, value) -> customers."""
    found: dict = {}
    for customer_id, tag_key, tag_value in rows(client, "SELECT customer_id, tag_key, tag_value FROM tags.customer_tags"):
        found.setdefault(tag_key, set()).add(customer_id)
        found.setdefault((tag_key, tag_value), set()).add(customer_id)
    everyone = {r[0] for r in rows(client, "SELECT customer_id FROM tags.customer_profile")}
    return found, everyone


def size(client, expression: str) -> int:
    return audiences.size(client, expression, catalog.load())


def matching(client, expression: str) -> set[str]:
    sql = audiences.compile_published(expression, catalog.load())
    return {r[0] for r in rows(client, "SELECT customer_id FROM tags.customer_index WHERE customer_index IN "
                                       f"(SELECT arrayJoin(bitmapToArray(members)) FROM ({sql}))")}


def test_nested_expressions_give_exactly_the_customers_of_the_set_algebra(long, client):
    tagged, everyone = long

    def t(key, value=None):
        return tagged.get(key if value is None else (key, value), set())

    def number(key, test):
        return {c for key_value, cs in tagged.items()
                if isinstance(key_value, tuple) and key_value[0] == key and test(float(key_value[1])) for c in cs}

    cases = {
        "vip and not churn_risk": t("vip") - t("churn_risk"),
        "(vip or high_value) and not (churn_risk or complaint_open)":
            (t("vip") | t("high_value")) - (t("churn_risk") | t("complaint_open")),
        "not vip": everyone - t("vip"),
        "not (not vip)": t("vip"),
        "not vip and not regular_customer": everyone - t("vip") - t("regular_customer"),
        "rfm_segment = 'champions' or (value_score >= 60 and country in ('DE', 'FR'))":
            t("rfm_segment", "champions") | (number("value_score", lambda v: v >= 60)
                                             & (t("country", "DE") | t("country", "FR"))),
        "country != 'DE' and not (source = 'instagram_ad' or source = 'facebook_ad')":
            (t("country") - t("country", "DE")) - t("source", "instagram_ad") - t("source", "facebook_ad"),
        "rfm_score < 200 or rfm_score in (555, 554)":
            number("rfm_score", lambda v: v < 200 or v in (555, 554)),
        "country not in ('DE', 'FR', 'GB') and (regular_customer or not vip_diamond)":
            (t("country") - t("country", "DE") - t("country", "FR") - t("country", "GB"))
            & (t("regular_customer") | (everyone - t("vip_diamond"))),
    }
    for expression, expected in cases.items():
        assert expected, f"{expression}: the demo data should give a non-empty answer"
        assert matching(client, expression) == expected, expression
        assert size(client, expression) == len(expected), expression


def test_bitmap_sizes_equal_the_same_query_over_the_long_table(night, client):
    by_long_table = {
        "vip and not churn_risk":
            "SELECT count() FROM (SELECT customer_id FROM tags.customer_tags GROUP BY customer_id "
            "HAVING countIf(tag_key = 'vip') > 0 AND countIf(tag_key = 'churn_risk') = 0)",
        "(high_value or vip_diamond) and country in ('DE', 'FR') and not complaint_open":
            "SELECT count() FROM (SELECT customer_id FROM tags.customer_tags GROUP BY customer_id HAVING "
            "(countIf(tag_key = 'high_value') > 0 OR countIf(tag_key = 'vip_diamond') > 0) "
            "AND countIf(tag_key = 'country' AND tag_value IN ('DE', 'FR')) > 0 AND countIf(tag_key = 'complaint_open') = 0)",
        "not vip":
            "SELECT (SELECT count() FROM tags.customer_profile) - "
            "(SELECT uniqExact(customer_id) FROM tags.customer_tags WHERE tag_key = 'vip')",
    }
    for expression, sql in by_long_table.items():
        assert size(client, expression) == rows(client, sql)[0][0] > 0, expression


def test_generated_audiences_equal_their_expressions_and_expired_ones_are_listed(night, client):
    listed = {r[0]: r[1:] for r in rows(client, "SELECT audience_key, status, member_count, last_built_as_of "
                                                "FROM audiences.audience_catalog")}
    for a in audiences.load():
        status, member_count, last_built = listed[a.audience_key]
        if a.is_live(AS_OF):
            assert (status, last_built) == ("live", AS_OF)
            assert members_of(client, a.audience_key) == matching(client, a.expression)
            assert member_count == len(matching(client, a.expression))
        else:
            assert (status, member_count, last_built) == ("expired", 0, None)
            assert not members_of(client, a.audience_key)
    assert any(status == "expired" for status, _, _ in listed.values())


def test_overlap_sizes_equal_intersections_counted_over_the_members(night, client):
    keys = audiences.live_keys(client)
    found = audiences.overlap(client, keys)
    members = {k: members_of(client, k) for k in keys}
    for a in keys:
        for b in keys:
            assert found.shared[(a, b)] == len(members[a] & members[b]), (a, b)
    assert any(found.shared[(a, b)] for a in keys for b in keys if a != b)  # some audiences do overlap
    # and straight from the long table of tags, for three of them
    having = {"payment_reminder": "countIf(tag_key = 'awaiting_payment') > 0",
              "complaint_follow_up": "countIf(tag_key = 'complaint_resolved') > 0 AND countIf(tag_key = 'complaint_open') = 0",
              "champions_de_fr": "countIf(tag_key = 'rfm_segment' AND tag_value = 'champions') > 0 "
                                 "AND countIf(tag_key = 'country' AND tag_value IN ('DE', 'FR')) > 0"}
    from_long = {k: {r[0] for r in rows(client, f"SELECT customer_id FROM tags.customer_tags GROUP BY customer_id "
                                                f"HAVING {condition}")} for k, condition in having.items()}
    for a in from_long:
        for b in from_long:
            assert found.shared[(a, b)] == len(from_long[a] & from_long[b]), (a, b)


def test_breakdown_by_a_label_tag_counts_members_per_value(night, client):
    key = "high_value_score"
    expected = dict(rows(client, "SELECT if(p.country = '', '(none)', p.country), count() FROM audiences.audience_members AS m "
                                 "INNER JOIN tags.customer_profile AS p ON p.customer_id = m.customer_id "
                                 "WHERE m.audience_key = %(k)s GROUP BY 1", k=key))
    assert dict(audiences.breakdown(client, key, "country", catalog.load())) == expected
    # by a labels tag a member counts under each of its values, and under '(none)' only without any
    by_interest = dict(rows(client, "SELECT t.tag_value, count() FROM audiences.audience_members AS m "
                                    "INNER JOIN tags.customer_tags AS t ON t.customer_id = m.customer_id "
                                    "WHERE m.audience_key = %(k)s AND t.tag_key = 'interest' GROUP BY 1", k=key))
    by_interest["(none)"] = rows(client, "SELECT count() FROM audiences.audience_members WHERE audience_key = %(k)s "
                                         "AND customer_id NOT IN (SELECT customer_id FROM tags.customer_tags "
                                         "WHERE tag_key = 'interest')", k=key)[0][0]
    assert dict(audiences.breakdown(client, key, "interest", catalog.load())) == {
        k: n for k, n in by_interest.items() if n}
    with pytest.raises(ValueError, match="not an active label or labels tag"):
        audiences.breakdown(client, key, "vip", catalog.load())


def latest_consents(client, channel: str) -> dict[str, bool]:
    """The consent in force per customer, computed here from every raw row: latest wins, a withdrawal wins a tie."""
    latest: dict[str, tuple] = {}
    for customer_id, granted, updated_at in rows(client, "SELECT customer_id, granted, updated_at FROM raw.consents "
                                                         "WHERE channel = %(c)s", c=channel):
        key = (updated_at, not granted)
        if customer_id not in latest or key > latest[customer_id][0]:
            latest[customer_id] = (key, bool(granted))
    return {c: granted for c, (_, granted) in latest.items()}


def accounts_of(client) -> dict[str, list[tuple[str, str]]]:
    """Each stitched customer's accounts with their e-mail, from identity stitching and staging."""
    found: dict[str, list[tuple[str, str]]] = {}
    for stitched, account, email in rows(client, "SELECT s.stitched_customer_id, a.customer_id, ifNull(a.email, '') "
                                                 "FROM identity.stitched_customers AS s INNER JOIN "
                                                 "staging.stg_customer_accounts AS a ON a.customer_id = s.customer_id"):
        found.setdefault(stitched, []).append((account, email))
    return found


def test_an_export_holds_exactly_the_consenting_members_with_their_channel_field(night, client, tmp_path):
    """Consent is per account: a member (a stitched customer) is sent to one of its accounts that granted consent for
    the channel and has its field, that account's own e-mail; a withdrawal on that account leaves the member out
    unless another account of it consented."""
    key = "high_value_score"  # an email audience
    accounts = accounts_of(client)
    assert any(len(a) > 1 for a in accounts.values()), "the demo should stitch some customers' accounts together"
    out = tmp_path / "first.csv"
    before = exports.export_audience(client, key, "csv", out)
    granted = {c for c, g in latest_consents(client, "email").items() if g}
    with out.open(newline="") as file:
        first = list(csv.DictReader(file))
    assert first and all(r["source_customer_id"] in granted for r in first)
    # a single-account member who granted, is exported, and then withdraws is left out of the next export
    leaver = next(r["customer_id"] for r in first if len(accounts[r["customer_id"]]) == 1)
    client.command("INSERT INTO raw.consents (customer_id, channel, granted, updated_at, _load_id, _loaded_at) "
                   "VALUES (%(c)s, 'email', false, now() - INTERVAL 1 MINUTE, 'test', now())", parameters={"c": leaver})
    out = tmp_path / "second.csv"
    after = exports.export_audience(client, key, "csv", out)
    with out.open(newline="") as file:
        reader = csv.DictReader(file)
        assert reader.fieldnames == ["customer_id", "source_customer_id", "email"]
        written = list(reader)
    assert leaver not in {r["customer_id"] for r in written}
    assert after.left_out_no_consent == before.left_out_no_consent + 1
    # complete: every member with an account that granted consent and has an e-mail is there, sent to such an account
    granted = {c for c, g in latest_consents(client, "email").items() if g}
    sendable = {stitched: {(account, email) for account, email in own if account in granted and email}
                for stitched, own in accounts.items()}
    expected = {c for c in members_of(client, key) if sendable.get(c)}
    assert {r["customer_id"] for r in written} == expected
    assert all((r["source_customer_id"], r["email"]) in sendable[r["customer_id"]] for r in written)
    assert after.exported + after.left_out_no_consent + after.left_out_no_contact + after.held_out == after.members
    logged = rows(client, "SELECT exported, left_out_no_consent FROM audiences.export_log WHERE export_id = %(e)s",
                  e=after.export_id)
    assert logged == [(after.exported, after.left_out_no_consent)]


def test_an_interrupted_export_leaves_no_partial_file_and_keeps_the_previous_one(night, client, tmp_path):
    out = tmp_path / "audience.csv"
    out.write_text("the previous export\n")

    def stop(written: int) -> None:
        raise KeyboardInterrupt  # the person pressed Ctrl-C after the first chunk

    with pytest.raises(KeyboardInterrupt):
        exports.export_audience(client, "high_value_score", "csv", out, interrupt=stop)
    assert out.read_text() == "the previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["audience.csv"]
    # the same client goes straight on: the next export replaces the file whole
    done = exports.export_audience(client, "high_value_score", "csv", out)
    assert len(ids(out)) == done.exported > 0


def test_a_holdout_is_the_same_customers_every_time_about_the_share_asked_and_never_exported(night, client, tmp_path):
    key = "high_value_score"
    size_of = len(members_of(client, key))
    first = exports.export_audience(client, key, "csv", tmp_path / "a.csv", holdout_share=0.1, holdout_seed="spring")
    held = {r[0] for r in rows(client, "SELECT customer_id FROM audiences.holdouts WHERE export_id = %(e)s",
                               e=first.export_id)}
    assert abs(len(held) / size_of - 0.1) <= 0.01
    second = exports.export_audience(client, key, "csv", tmp_path / "b.csv", holdout_share=0.1, holdout_seed="spring")
    assert {r[0] for r in rows(client, "SELECT customer_id FROM audiences.holdouts WHERE export_id = %(e)s",
                               e=second.export_id)} == held
    # an export that does not ask for a holdout still keeps the recorded one out
    third = exports.export_audience(client, key, "parquet", tmp_path / "c.parquet")
    assert third.held_out == len(held)
    for exported in (ids(tmp_path / "a.csv"), ids(tmp_path / "b.csv"),
                     pq.read_table(tmp_path / "c.parquet").column("customer_id").to_pylist()):
        assert exported and not held & set(exported)
    assert sorted(pq.read_table(tmp_path / "c.parquet").column("customer_id").to_pylist()) == sorted(ids(tmp_path / "b.csv"))


def test_an_exclusive_export_gives_each_customer_to_the_first_audience_by_priority(night, client, tmp_path):
    priority = {a.audience_key: a.priority for a in audiences.load() if a.is_live(AS_OF)}
    key = max(priority, key=priority.get)  # the last audience: every other one comes first
    higher = set().union(*(members_of(client, k) for k, p in priority.items() if p < priority[key]))
    shared = members_of(client, key) & higher
    assert shared, "the demo audiences should overlap"
    done = exports.export_audience(client, key, "csv", tmp_path / "x.csv", exclusive=True)
    assert done.left_out_priority == len(shared)
    assert not set(ids(tmp_path / "x.csv")) & higher
    assert exports.export_audience(client, key, "csv", tmp_path / "y.csv").left_out_priority == 0


def test_the_tag_change_feed_exports_who_just_got_a_tag(night, client, tmp_path):
    out = tmp_path / "changes.csv"
    count = exports.export_tag_changes(client, "csv", out, tag_key="vip", change="added")
    with out.open(newline="") as file:
        written = list(csv.DictReader(file))
    assert count == len(written) == len(rows(client, "SELECT 1 FROM tags.tag_changes WHERE tag_key = 'vip' "
                                                     "AND change = 'added'")) > 0
    assert {r["change"] for r in written} == {"added"}


def test_a_misspelt_tag_key_is_refused_with_the_closest_one_and_nothing_written(night, client, tmp_path):
    out = tmp_path / "changes.csv"
    with pytest.raises(exports.ExportError, match="unknown tag 'vipp' \\(did you mean 'vip'\\?\\)"):
        exports.export_tag_changes(client, "csv", out, tag_key="vipp")
    assert not out.exists()


def test_cli_errors_name_the_problem_without_a_traceback(night, client):
    runner = CliRunner()
    result = runner.invoke(app, ["audience", "size", "vip and (churn_risk or"])
    assert result.exit_code == 1 and "column 23" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["audience", "export", "black_friday_2026", "--out", "/tmp/never.csv"])
    assert result.exit_code == 1 and "expired on 2026-11-20" in result.output and not Path("/tmp/never.csv").exists()
    result = runner.invoke(app, ["audience", "size", "vip and not churn_risk"])
    members, everyone = size(client, "vip and not churn_risk"), rows(client, "SELECT count() FROM tags.customer_profile")[0][0]
    assert result.exit_code == 0 and f"{members:,} customers, {members / everyone:.1%} of {everyone:,}" in result.output


def test_json_output_carries_the_same_figures_as_the_tables_and_fixed_choices_are_refused(night, client):
    import json

    runner = CliRunner()
    result = runner.invoke(app, ["audience", "size", "vip and not churn_risk", "--json"])
    found = json.loads(result.output)
    everyone = rows(client, "SELECT count() FROM tags.customer_profile")[0][0]
    assert found["customers"] == size(client, "vip and not churn_risk") and found["all_customers"] == everyone
    assert found["share"] == pytest.approx(found["customers"] / everyone)
    listed = json.loads(runner.invoke(app, ["audience", "list", "--json"]).output)
    assert {a["audience_key"]: a["member_count"] for a in listed if a["status"] == "live"} == dict(
        rows(client, "SELECT audience_key, member_count FROM audiences.audience_catalog WHERE status = 'live'"))
    keys = audiences.live_keys(client)[:3]
    overlap = json.loads(runner.invoke(app, ["audience", "overlap", *keys, "--json"]).output)
    shared = audiences.overlap(client, keys).shared
    assert [[row["audience"], *(row[b] for b in keys)] for row in overlap] == [[a, *(shared[(a, b)] for b in keys)]
                                                                              for a in keys]
    parts = json.loads(runner.invoke(app, ["audience", "breakdown", "high_value_score", "--by", "country", "--json"]).output)
    assert {p["country"]: p["customers"] for p in parts} == dict(audiences.breakdown(client, "high_value_score", "country",
                                                                                     catalog.load()))
    for args, choices in ((["tag", "changes", "--out", "/tmp/never.csv", "--change", "gone"], "'added', 'removed', 'changed'"),
                          (["audience", "export", "payment_reminder", "--out", "/tmp/never.xls", "--format", "xls"],
                           "'csv', 'parquet'")):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and choices in " ".join(result.output.replace("│", " ").split()), result.output
        assert not Path(args[args.index("--out") + 1]).exists()


@pytest.mark.slow
def test_the_next_night_records_who_entered_and_left_each_audience(night, client):
    before = {a: members_of(client, a) for a in audiences.live_keys(client)}
    outcome = refresh.run(DAY_2, None, catalog.load())
    assert outcome.success, outcome.failures
    for key, old in before.items():
        new = members_of(client, key)
        changes = rows(client, "SELECT change, customer_id FROM audiences.audience_changes "
                               "WHERE as_of = %(d)s AND audience_key = %(k)s", d=DAY_2, k=key)
        assert {c for kind, c in changes if kind == "entered"} == new - old, key
        assert {c for kind, c in changes if kind == "left"} == old - new, key
        sizes = rows(client, "SELECT as_of, member_count FROM audiences.audience_sizes WHERE audience_key = %(k)s "
                             "ORDER BY as_of", k=key)
        assert sizes == [(AS_OF, len(old)), (DAY_2, len(new))]
    assert any(members_of(client, k) != old for k, old in before.items())  # a day later, something moved
    # the first published day is each audience's and each tag's baseline: everyone entered / was added, marked
    # so a trigger can skip it; the next day's changes are real ones
    for view in ("audiences.audience_changes", "tags.tag_changes"):
        marked = dict(rows(client, f"SELECT as_of, groupUniqArray(is_baseline) FROM {view} GROUP BY as_of"))
        assert marked == {AS_OF: [1], DAY_2: [0]}, view
    added = rows(client, f"SELECT countIf(change != 'added') FROM tags.tag_changes WHERE as_of = '{AS_OF}'")[0][0]
    assert added == 0  # what the baseline marks: on the first day every row is an addition


def bi_engine(server) -> sqlalchemy.Engine:
    return sqlalchemy.create_engine(
        f"clickhousedb://{bi_access.BI_USER}:{BI_TEST_PASSWORD}@127.0.0.1:{server.http_port}/tags")


def test_a_bi_tool_reads_tags_as_the_read_only_user_and_nothing_else(night, server, client):
    stitched = client.command("SELECT count() FROM staging.stg_customers")  # a row per person, not per account
    assert 0 < stitched < CUSTOMERS
    with bi_engine(server).connect() as bi:
        profile = bi.execute(sqlalchemy.text("SELECT count(), sum(vip) FROM customer_profile")).one()
        assert profile[0] == stitched and profile[1] > 0
        # every account of the demo, joined to the customer its tags are under
        accounts = bi.execute(sqlalchemy.text("SELECT count(), uniqExact(customer_id) FROM customer_accounts")).one()
        assert tuple(accounts) == (CUSTOMERS, stitched)
        assert bi.execute(sqlalchemy.text("SELECT count() FROM audiences.audience_sizes")).scalar() > 0
        assert bi.execute(sqlalchemy.text("SELECT count() FROM quality.check_results")).scalar() > 0
        for refused in ("SELECT * FROM raw.customers LIMIT 1",
                        "SELECT email FROM staging.stg_customers LIMIT 1",
                        "SELECT * FROM tag_store.tag_snapshots LIMIT 1",
                        "INSERT INTO tags.customer_index (customer_id, customer_index) VALUES ('x', 0)",
                        "DROP TABLE tags.customer_profile",
                        "SELECT * FROM file('/etc/passwd', 'LineAsString')"):
            with pytest.raises(sqlalchemy.exc.DatabaseError, match="ACCESS_DENIED|Not enough privileges|readonly"):
                bi.execute(sqlalchemy.text(refused))
        # the README's example BI queries run as this user and return rows
        section = (settings.PROJECT_DIR / "README.md").read_text().split("## BI access")[1].split("\n## ")[0]
        examples = [q.strip() for q in section.split("```sql")[1].split("```")[0].split(";") if q.strip()]
        assert len(examples) == 5
        answers = [bi.execute(sqlalchemy.text(example)).fetchall() for example in examples]
        assert all(answers[i] for i in (0, 1, 2, 4))  # the 4th (new VIPs on the latest day) may be empty
    users = (Path(settings.warehouse_dir()) / "users.xml").read_text()
    assert BI_TEST_PASSWORD not in users
    granted = {g for g in bi_access.GRANTS if f"<query>{g}</query>" in users}
    assert granted == {s.removesuffix(f" TO {bi_access.BI_USER}")
                       for s in bi_access.prod_statements(BI_TEST_PASSWORD) if s.startswith("GRANT ")}


def test_docs_have_an_exposure_per_audience_and_for_the_bi_door(night):
    result = CliRunner().invoke(app, ["docs", "--no-serve"])
    assert result.exit_code == 0, result.output
    target = settings.PROJECT_DIR / "target"
    manifest = json.loads((target / "manifest.json").read_text())
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert {f"audience_{a.audience_key}" for a in audiences.load()} | {"bi_read_only_door"} <= set(exposures)
    assert "model.customer_tags.audience_members" in exposures["audience_champions_de_fr"]["depends_on"]["nodes"]
    catalog_json = json.loads((target / "catalog.json").read_text())
    assert "model.customer_tags.audience_sizes" in catalog_json["nodes"]
