"""Nobody let in: the BI user reads only what is published, secrets stay in the environment, exports
hold only consenting customers with only the field their channel needs."""

from __future__ import annotations

import csv
import datetime as dt
import subprocess

import clickhouse_connect
import pytest
import yaml
from clickhouse_connect.driver.exceptions import DatabaseError

from orchestration import settings
from orchestration.audiences import audiences
from orchestration.audiences import exports
from orchestration.warehouse import bi_access
from tests.conftest import BI_TEST_PASSWORD, tags_cli
from tests.reliability.conftest import record

PIPELINE_SECRET = "ch-secret-7f3a9c"  # a CLICKHOUSE_PASSWORD in the refresh's environment (unused by `local`)
BI_DATABASES = set(bi_access.BI_DATABASES)


@pytest.fixture(scope="module")
def bi(demo_night, server):
    return clickhouse_connect.get_client(host="127.0.0.1", port=server.http_port, username="bi_reader",
                                         password=BI_TEST_PASSWORD, autogenerate_session_id=False)


def refused(bi, sql: str) -> bool:
    try:
        bi.command(sql)
    except DatabaseError:
        return True
    return False


def test_the_bi_user_cannot_write_or_reach_outside_the_published_databases(demo_night, client, bi):
    writes = ["INSERT INTO tags.customer_tags SELECT * FROM tags.customer_tags LIMIT 1",
              "CREATE TABLE tags.x (a UInt8) ENGINE = Memory", "DROP VIEW tags.customer_tags",
              "ALTER TABLE tag_store.publish_log DELETE WHERE 1", "TRUNCATE TABLE tag_store.publish_log",
              "INSERT INTO FUNCTION file('bi.csv', 'CSV', 'a UInt8') SELECT 1", "SELECT * FROM file('/etc/passwd', 'LineAsString')",
              "SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')", "CREATE USER intruder", "GRANT ALL ON *.* TO bi_reader",
              "SYSTEM DROP QUERY CACHE", "SELECT * FROM remote('127.0.0.1', raw.customers)"]
    assert [sql for sql in writes if not refused(bi, sql)] == []
    tables = client.query("SELECT database, name FROM system.tables WHERE database NOT IN ('system', "
                          "'INFORMATION_SCHEMA', 'information_schema') ORDER BY ALL").result_rows
    readable = {(d, t) for d, t in tables if not refused(bi, f"SELECT 1 FROM `{d}`.`{t}` LIMIT 1")}
    assert {d for d, _ in readable} <= BI_DATABASES
    assert {d for d, _ in tables} - BI_DATABASES >= {"raw", "staging", "features", "tag_store"}
    assert ("tags", "customer_profile") in readable and ("audiences", "audience_sizes") in readable
    assert client.query("SELECT count() FROM tags.customer_tags").result_rows[0][0] > 0  # the pipeline user can
    record(client, "security", f"BI user: {len(writes)} writes, DDL, grants and file/url/remote reads; "
           f"SELECT on all {len(tables)} tables", len(writes) + len(tables),
           f"writes refused; reads only {', '.join(sorted(BI_DATABASES))}")


def test_the_bi_user_sees_no_contact_data(demo_night, client, bi):
    columns = bi.query("SELECT database, table, name, type FROM system.columns WHERE database IN %(d)s",
                       parameters={"d": tuple(BI_DATABASES)}).result_rows
    assert not [c for c in columns if c[2] in ("email", "phone")]
    emails = {e for (e,) in client.query("SELECT email FROM raw.customers WHERE email IS NOT NULL LIMIT 200").result_rows}
    phones = {p for (p,) in client.query("SELECT phone FROM raw.customers WHERE phone IS NOT NULL LIMIT 200").result_rows}
    assert emails and phones
    text_columns = [(d, t, n) for d, t, n, kind in columns if "String" in kind and "Map" not in kind and "Array" not in kind]
    leaking = []
    for database, table, name in text_columns:
        found = bi.query(f"SELECT count() FROM `{database}`.`{table}` WHERE toString(`{name}`) IN %(v)s",
                         parameters={"v": tuple(emails | phones)}).result_rows[0][0]
        if found:
            leaking.append(f"{database}.{table}.{name}")
    assert leaking == []
    record(client, "security", f"contact data through BI: {len(text_columns)} text columns searched for "
           f"{len(emails) + len(phones)} e-mails and phones", len(text_columns), "none found")


def test_secrets_come_from_the_environment_and_appear_in_no_log_artifact_or_report(demo_night, server, client, tmp_path):
    env = {"CLICKHOUSE_PASSWORD": PIPELINE_SECRET, "TAGS_BI_PASSWORD": BI_TEST_PASSWORD}
    outputs = [tags_cli("refresh", "--as-of", str(night_day(client)), env=env),
               tags_cli("quality", "report", env=env), tags_cli("docs", "--no-serve", env=env),
               tags_cli("bi", "grants", env=env)]
    assert [o.returncode for o in outputs] == [0, 0, 0, 0], [o.stdout[-2000:] for o in outputs]
    assert "sha256_hash" in outputs[-1].stdout  # the grants carry the password's hash only
    secrets = (PIPELINE_SECRET, BI_TEST_PASSWORD)
    assert not [s for o in outputs for s in secrets if s in o.stdout + o.stderr]

    project = settings.PROJECT_DIR
    searched = [p for folder in (project / "target", project / "logs", project / "reports", server.root)
                for p in folder.rglob("*") if p.is_file() and "data" not in p.relative_to(folder).parts[:1]]
    leaked = [str(p) for p in searched for s in secrets if s.encode() in p.read_bytes()]
    assert leaked == []
    client.command("SYSTEM FLUSH LOGS")
    assert client.query("SELECT count() FROM system.query_log WHERE query LIKE %(a)s OR query LIKE %(b)s",
                        parameters={"a": f"%{PIPELINE_SECRET}%", "b": f"%{BI_TEST_PASSWORD}%"}).result_rows == [(0,)]
    # nothing secret in the repository: every credential in profiles.yml is read from the environment
    profiles = yaml.safe_load((project / "profiles.yml").read_text())["customer_tags"]["outputs"]
    for name, target in profiles.items():
        if name not in settings.EMBEDDED_TARGETS:
            assert "env_var('CLICKHOUSE_PASSWORD'" in str(target["password"]), name
    tracked = subprocess.run(["git", "grep", "-l", "-e", PIPELINE_SECRET, "--", ":!tests"], cwd=project,
                             capture_output=True, text=True)
    assert tracked.stdout == ""
    record(client, "security", f"secrets in {len(searched)} log, artifact, report and server files and the query log",
           len(searched), "none found; profiles read env_var() only")


def night_day(client) -> dt.date:
    return client.query("SELECT max(as_of) FROM tag_store.publish_log").result_rows[0][0]


def latest_consents(client, channel: str, now: dt.datetime) -> dict[str, bool]:
    """Computed here, in Python, from every raw decision: the latest not in the future; a withdrawal wins a tie."""
    latest: dict[str, tuple[dt.datetime, bool]] = {}
    for customer, granted, at in client.query("SELECT customer_id, granted, updated_at FROM raw.consents "
                                              "WHERE channel = %(c)s", parameters={"c": channel}).result_rows:
        if at > now:
            continue
        seen = latest.get(customer)
        if seen is None or at > seen[0] or (at == seen[0] and not granted):
            latest[customer] = (at, bool(granted))
    return {c: g for c, (_, g) in latest.items()}


def test_every_export_holds_only_consenting_customers_and_their_channel_field(demo_night, client, tmp_path):
    live = client.query("SELECT audience_key, channel FROM audiences.audience_catalog WHERE status = 'live' "
                        "ORDER BY audience_key").result_rows
    assert {channel for _, channel in live} >= {"email", "sms"}
    now = client.query("SELECT now()").result_rows[0][0]
    checked = 0
    for key, channel in live:
        out = tmp_path / f"{key}.csv"
        result = exports.export_audience(client, key, "csv", out)
        with out.open(newline="") as file:
            reader = csv.DictReader(file)
            assert reader.fieldnames == ["customer_id", "source_customer_id", *audiences.CHANNEL_FIELDS[channel]], key
            written = [r["source_customer_id"] for r in reader]  # the account sent to, whose consent counts
        granted = {c for c, g in latest_consents(client, channel, now).items() if g}
        assert set(written) <= granted, key
        assert len(written) == result.exported
        checked += len(written)
    assert checked > 0
    record(client, "security", f"exports of {len(live)} live audiences (channels "
           f"{', '.join(sorted({c for _, c in live}))})", len(live),
           f"{checked:,} exported customers, all with granted consent; only the channel's field")
