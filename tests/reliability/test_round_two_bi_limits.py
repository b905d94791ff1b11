"""BI cannot take the warehouse down and the pipeline's own user is not an open door (issue 16, item 5):
bi_reader's limits are maximums it cannot raise, a query over them is stopped, a quota caps it, a
query whose client hangs up is cancelled, and `default` needs the password from the warehouse
directory. The limits are test-sized through their environment variables, so nothing waits long."""

from __future__ import annotations

import http.client
import os
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
from clickhouse_driver import Client as NativeClient

from orchestration.settings import PROJECT_DIR
from orchestration.warehouse import bi_access, demo
from tests.conftest import BI_TEST_PASSWORD, environment, running_server, tags_cli
from tests.integration.known import AS_OF
from tests.reliability.conftest import record

LIMITS = {"TAGS_BI_MAX_EXECUTION_TIME": "6", "TAGS_BI_MAX_THREADS": "1",
          "TAGS_BI_MAX_MEMORY_USAGE": str(100 * 2**20), "TAGS_BI_MAX_MEMORY_USAGE_FOR_USER": str(200 * 2**20)}
HEAVY = "SELECT count() FROM numbers(1000000000000) SETTINGS max_block_size = 1000"  # hours, unless stopped
# Spelled out rather than read from the code, so that each test fails by itself on a tree without them.
PASSWORD_VARIABLES = ("TAGS_WAREHOUSE_PASSWORD", "DBT_ENV_SECRET_TAGS_WAREHOUSE_PASSWORD")
PASSWORD_FILE = "pipeline_password"
BI_QUOTA = "bi_reader_quota"

# What `tags` commands and the Dagster job do in a fresh process: ask db.client() for a client, and run
# dbt in-process (`dbt debug` connects with the profile's password).
CLIENTS_PROBE = """
from dbt.cli.main import dbtRunner
from orchestration.settings import PROJECT_DIR
from orchestration.warehouse import db
print("client", db.client().command("SELECT currentUser()"))
result = dbtRunner().invoke(["debug", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)])
raise SystemExit(0 if result.success else 1)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator:
    """This module's own server, with test-sized BI limits and no pipeline password in the environment,
    so that `tags warehouse start` generates one into the warehouse directory."""
    saved = {name: os.environ.pop(name, None) for name in PASSWORD_VARIABLES}
    try:
        with environment(**LIMITS), running_server(tmp_path_factory.mktemp("warehouse")) as instance:
            yield instance
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value


def http_sql(port: int, sql: str, user: str | None = None, password: str | None = None, timeout: float = 30,
             **params: str) -> tuple[int, str]:
    """(HTTP status, body) of one query, as any HTTP client sends it: settings as URL parameters."""
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    headers = {"X-ClickHouse-User": user, "X-ClickHouse-Key": password or ""} if user else {}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/{query}", data=sql.encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode().strip()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode().strip()


def bi_sql(server, sql: str, timeout: float = 30, **params: str) -> tuple[int, str]:
    return http_sql(server.http_port, sql, bi_access.BI_USER, BI_TEST_PASSWORD, timeout, **params)


def running(client, query_id: str) -> bool:
    return int(client.command(f"SELECT count() FROM system.processes WHERE query_id = '{query_id}'")) > 0


def test_bi_reader_cannot_raise_or_switch_off_its_limits(server):
    # 0 means "no limit" (for max_threads "all cores"): below the minimum of 1, so refused too.
    raises = [("max_execution_time", "0"), ("max_execution_time", "3600"), ("max_threads", "16"), ("max_threads", "0"),
              ("max_memory_usage", "0"), ("max_memory_usage", str(64 * 2**30)), ("max_memory_usage_for_user", "0"),
              ("max_memory_usage_for_user", str(64 * 2**30)), ("cancel_http_readonly_queries_on_client_close", "0")]
    refusals = {}
    for name, value in raises:
        for way, (sql, params) in {"SET": (f"SET {name} = {value}", {}),
                                   "SETTINGS": (f"SELECT 1 SETTINGS {name} = {value}", {}),
                                   "URL": ("SELECT 1", {name: value})}.items():
            status, body = bi_sql(server, sql, **params)
            refusals[(name, value, way)] = (status, body)
    allowed = [key for key, (status, _) in refusals.items() if status == 200]
    assert allowed == [], allowed
    assert all("SETTING_CONSTRAINT_VIOLATION" in body for _, body in refusals.values()), refusals
    messages = {key: body for key, (_, body) in refusals.items()}
    assert "Setting max_threads shouldn't be greater than 1" in messages[("max_threads", "16", "SET")]
    assert "Setting max_execution_time shouldn't be less than 1" in messages[("max_execution_time", "0", "URL")]
    assert "Setting max_memory_usage shouldn't be greater than 104857600" in messages[
        ("max_memory_usage", str(64 * 2**30), "SETTINGS")]
    # maximums, not fixed values: a BI tool may still ask for less
    assert bi_sql(server, "SELECT getSetting('max_threads'), getSetting('max_execution_time') "
                          "SETTINGS max_threads = 1, max_execution_time = 2") == (200, "1\t2")
    assert bi_sql(server, "SELECT getSetting('max_threads'), getSetting('max_execution_time'), "
                          "getSetting('max_memory_usage')") == (200, f"1\t6\t{100 * 2**20}")
    record(None, "security", f"bi_reader raising or switching off its limits: {len(raises)} values of "
           "max_execution_time, max_threads, max_memory_usage(_for_user) and the disconnect cancel, each by SET, "
           "SETTINGS and URL parameter", len(refusals), "all refused (SETTING_CONSTRAINT_VIOLATION); lower values allowed")


def test_a_bi_query_over_its_limits_is_stopped(server):
    started = time.monotonic()
    status, body = bi_sql(server, HEAVY, timeout=60)
    seconds = time.monotonic() - started
    assert status != 200 and "TIMEOUT_EXCEEDED" in body, body
    assert 5 <= seconds < 15, seconds
    status, memory = bi_sql(server, "SELECT length(groupArray(number)) FROM numbers(100000000)", timeout=60)
    assert status != 200 and "MEMORY_LIMIT_EXCEEDED" in memory, memory
    # a query asking for more time than allowed is refused before it starts
    status, longer = bi_sql(server, HEAVY, max_execution_time="3600")
    assert status != 200 and "SETTING_CONSTRAINT_VIOLATION" in longer
    record(None, "security", "bi_reader: a count over 10^12 rows, a 100,000,000-element array, "
           "the same count asking for 3,600 s", 3,
           f"stopped at the test limits: TIMEOUT_EXCEEDED after {seconds:.0f} s (limit 6 s), MEMORY_LIMIT_EXCEEDED "
           "at 100 MiB, the longer one refused")


def test_the_bi_quota_is_applied_and_stops_a_runaway_client(server, client, tmp_path):
    quotas = client.query("SELECT name, apply_to_list, keys, durations FROM system.quotas "
                          "WHERE name = %(q)s", parameters={"q": BI_QUOTA}).result_rows
    assert quotas == [(BI_QUOTA, [bi_access.BI_USER], ["user_name"], [3600])]
    assert bi_sql(server, "SELECT 1 FROM numbers(1)") == (200, "1")
    usage = client.query("SELECT quota_key, queries > 0, max_queries, max_execution_time FROM system.quotas_usage "
                         "WHERE quota_name = %(q)s", parameters={"q": BI_QUOTA}).result_rows
    assert usage == [(bi_access.BI_USER, True, 50_000, 3600.0)]  # the defaults

    # A server of its own with a tiny quota: a client in a loop is cut off.
    with environment(TAGS_BI_QUERIES_PER_HOUR="5"), running_server(tmp_path / "quota") as small:
        answers = [bi_sql(small, "SELECT count() FROM numbers(10)") for _ in range(8)]
    assert [status for status, _ in answers[:5]] == [200] * 5
    assert all(status != 200 and "QUOTA_EXCEEDED" in body and "queries = " in body for status, body in answers[5:]), answers
    record(None, "security", "bi_reader's quota: system.quotas, then 8 queries against a quota of 5 per hour", 8,
           "applied to bi_reader only (50,000 queries and 3,600 s per hour by default); queries 6 to 8 refused "
           "(QUOTA_EXCEEDED)")


def test_a_query_whose_client_hangs_up_is_cancelled(server, client):
    # HTTP: the BI tool's tab is closed mid-query
    connection = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=30)
    connection.request("POST", "/?query_id=hang-up-http", body=HEAVY.encode(),
                       headers={"X-ClickHouse-User": bi_access.BI_USER, "X-ClickHouse-Key": BI_TEST_PASSWORD})
    deadline = time.monotonic() + 3
    while not running(client, "hang-up-http") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running(client, "hang-up-http")
    time.sleep(0.5)
    connection.sock.close()
    closed = time.monotonic()
    while running(client, "hang-up-http") and time.monotonic() - closed < 4:
        time.sleep(0.05)
    http_seconds = time.monotonic() - closed
    assert not running(client, "hang-up-http"), "still running after the client hung up"
    assert http_seconds < 2.5, http_seconds  # not the 6 s limit

    # native protocol: the connection is dropped mid-query
    native = NativeClient("127.0.0.1", port=server.tcp_port, user=bi_access.BI_USER, password=BI_TEST_PASSWORD)

    def heavy_native() -> None:
        try:
            native.execute(HEAVY, query_id="hang-up-native")
        except Exception:  # noqa: BLE001 - the connection is dropped under it
            pass

    worker = threading.Thread(target=heavy_native, daemon=True)
    worker.start()
    deadline = time.monotonic() + 3
    while not running(client, "hang-up-native") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running(client, "hang-up-native")
    # Shut the socket down rather than calling native.disconnect(): the worker's failing read
    # disconnects the same connection at the same moment, and two disconnects race on its socket.
    native.connection.socket.shutdown(socket.SHUT_RDWR)
    closed = time.monotonic()
    while running(client, "hang-up-native") and time.monotonic() - closed < 4:
        time.sleep(0.05)
    native_seconds = time.monotonic() - closed
    assert not running(client, "hang-up-native")
    assert native_seconds < 2.5, native_seconds
    worker.join(10)
    record(None, "security", "a BI client hangs up mid-query (HTTP socket closed; native connection dropped)", 2,
           f"cancelled: gone from system.processes {http_seconds:.1f} s (HTTP) and {native_seconds:.1f} s "
           "(native) after the hang-up")


def test_the_pipeline_user_needs_the_password_from_the_warehouse_directory(server, client):
    demo.generate(client, 50, 42, AS_OF)  # contact data in raw.customers
    contact = "SELECT count() FROM raw.customers WHERE email IS NOT NULL"
    tries = []
    for user, password in ((None, None), ("default", None), ("default", "wrong-password")):
        status, body = http_sql(server.http_port, contact, user, password)
        tries.append(status)
        assert status in (401, 403) and "Authentication failed" in body, (user, status, body)
    for password in ("", "wrong-password"):
        with pytest.raises(Exception, match="AUTHENTICATION_FAILED|Authentication failed"):
            NativeClient("127.0.0.1", port=server.tcp_port, user="default", password=password).execute(contact)
        tries.append("native refused")

    password_file = server.root / PASSWORD_FILE
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    password = password_file.read_text().strip()
    assert len(password) >= 24
    status, emails = http_sql(server.http_port, contact, "default", password)
    assert status == 200 and int(emails) > 0
    assert NativeClient("127.0.0.1", port=server.tcp_port, password=password).execute("SELECT currentUser()") == [("default",)]
    # the pipeline's own clients find it there, with no password in their environment: db.client() and dbt
    env = {**os.environ, **{name: "" for name in PASSWORD_VARIABLES}}
    probe = subprocess.run([sys.executable, "-c", CLIENTS_PROBE], capture_output=True, text=True, env=env,
                           cwd=PROJECT_DIR, timeout=300)
    assert probe.returncode == 0 and "client default" in probe.stdout, probe.stdout[-3000:] + probe.stderr[-3000:]
    # and the password is nowhere in the server's configuration or log: only its file holds it
    others = [p for p in server.root.iterdir() if p.is_file() and p != password_file]
    assert [p.name for p in others if password.encode() in p.read_bytes()] == []
    record(None, "security", "user default on the embedded server without its password (HTTP: none, empty, wrong; "
           "native: empty, wrong), then with the password from the warehouse directory",
           len(tries) + 1, f"{len(tries)} logins refused (Authentication failed); with the 0600 file's password "
           f"raw.customers reads {int(emails)} e-mail addresses; db.client() and dbt find the file by themselves")


def test_tags_bi_grants_carries_the_same_limits_and_quota_for_production(server, client):
    result = tags_cli("bi", "grants", env={**LIMITS, "TAGS_BI_PASSWORD": BI_TEST_PASSWORD}, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    statements = [line.rstrip(";") for line in result.stdout.splitlines() if line.strip()]
    profile = next(s for s in statements if s.startswith("CREATE SETTINGS PROFILE"))
    for name, value in (("max_execution_time", 6), ("max_threads", 1), ("max_memory_usage", 100 * 2**20),
                        ("max_memory_usage_for_user", 200 * 2**20)):
        assert f"{name} = {value} MIN 1 MAX {value}" in profile, profile
    assert "cancel_http_readonly_queries_on_client_close = 1 CONST" in profile
    assert "readonly = 2" in profile
    assert any(s.startswith(f"CREATE QUOTA IF NOT EXISTS {BI_QUOTA} KEYED BY user_name FOR INTERVAL 3600 "
                            f"second MAX queries = 50000, execution_time = 3600 TO {bi_access.BI_USER}")
               for s in statements), statements
    assert any(s.startswith("ALTER SETTINGS PROFILE bi_readonly") for s in statements)
    # every statement parses on this ClickHouse version (the embedded engine has no SQL access storage to run them)
    for statement in statements:
        client.query("SELECT formatQuery(%(s)s)", parameters={"s": statement})
    record(None, "security", "`tags bi grants` for production with test-sized limits", len(statements),
           "settings profile with MIN 1 MAX constraints, the disconnect cancel CONST and a quota; every statement "
           "parses")
