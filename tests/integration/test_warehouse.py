"""The embedded server behaves like a ClickHouse server: ping, HTTP and native SQL, restarts, one owner."""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import time
import urllib.request

import clickhouse_connect
import pytest
from clickhouse_driver import Client as NativeClient

from orchestration import settings
from orchestration.warehouse import warehouse
from tests.conftest import free_port, tags_cli


def http_sql(port: int, sql: str) -> str:
    """As the pipeline user, with the password the server was started with."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", data=sql.encode(), headers={
        "X-ClickHouse-User": "default", "X-ClickHouse-Key": settings.warehouse_password() or ""})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode().strip()


def test_answers_ping_http_and_native_tcp(server):
    assert warehouse.ping(server.http_port)
    assert http_sql(server.http_port, "SELECT 1 + 1") == "2"
    http = clickhouse_connect.get_client(host="127.0.0.1", port=server.http_port, password=settings.warehouse_password())
    # databases are Atomic, so dbt's table materialization can publish with EXCHANGE TABLES
    http.command("CREATE DATABASE IF NOT EXISTS atomic_check")
    assert http.command("SELECT engine FROM system.databases WHERE name = 'atomic_check'") == "Atomic"
    http.command("CREATE TABLE atomic_check.a (n UInt8) ENGINE = MergeTree ORDER BY n")
    http.command("CREATE TABLE atomic_check.b (n UInt8) ENGINE = MergeTree ORDER BY n")
    http.command("INSERT INTO atomic_check.b VALUES (1)")
    http.command("EXCHANGE TABLES atomic_check.a AND atomic_check.b")
    assert http.command("SELECT count() FROM atomic_check.a") == 1
    native = NativeClient("127.0.0.1", port=server.tcp_port, password=settings.warehouse_password() or "")
    assert native.execute("SELECT 40 + 2") == [(42,)]


def test_status_and_cli_report_the_running_server(server):
    state = warehouse.status(server.root)
    assert state.running and state.healthy
    assert (state.http_port, state.tcp_port) == (server.http_port, server.tcp_port)
    result = tags_cli("warehouse", "status", env=server.env(), timeout=120)
    assert result.returncode == 0 and "healthy" in result.stdout


def test_survives_a_restart_with_its_data(tmp_path):
    http_port, tcp_port = free_port(), free_port()
    warehouse.start(tmp_path, http_port, tcp_port)
    try:
        http_sql(http_port, "CREATE DATABASE keep")
        http_sql(http_port, "CREATE TABLE keep.facts (n UInt32) ENGINE = MergeTree ORDER BY n")
        http_sql(http_port, "INSERT INTO keep.facts SELECT number FROM numbers(1000)")
        pid = warehouse.status(tmp_path).pid
        assert warehouse.stop(tmp_path)
        assert not warehouse.status(tmp_path).running
        assert not warehouse.ping(http_port)
        # SIGTERM drained and exited cleanly
        assert "stopped cleanly" in (tmp_path / "server.log").read_text()
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
        warehouse.start(tmp_path, http_port, tcp_port)
        assert http_sql(http_port, "SELECT count(), sum(n) FROM keep.facts") == "1000\t499500"
    finally:
        warehouse.stop(tmp_path)


def test_a_second_process_on_the_same_directory_is_refused(server):
    # Another owner of the directory that left no pid file: our own lock says who to ask.
    env = {**server.env(), "WAREHOUSE_HTTP_PORT": str(free_port()), "WAREHOUSE_TCP_PORT": str(free_port())}
    pid_file = server.root / "warehouse.pid"
    saved = pid_file.read_text()
    pid_file.unlink()
    try:
        result = tags_cli("warehouse", "start", env=env, timeout=120)
    finally:
        pid_file.write_text(saved)
    assert result.returncode == 1
    assert "is locked by another process" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr

    # And the engine itself refuses a second server on the same data, whatever our lock says.
    second = subprocess.run(
        [*warehouse.SERVER_COMMAND, "--config-file", str(server.root / "config.xml")],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(warehouse.Path(warehouse.__file__).parent.parent)},
    )
    assert second.returncode != 0
    assert "Another server instance in same directory is already running" in second.stdout + second.stderr
    assert warehouse.ping(server.http_port)  # the first server is untouched


def test_a_taken_port_is_named(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(warehouse.WarehouseError, match=f"port {port} \\(HTTP\\) is already in use.*WAREHOUSE_HTTP_PORT"):
            warehouse.start(tmp_path, port, free_port())
    assert not warehouse.status(tmp_path).running


def test_the_lock_is_released_when_the_server_dies(tmp_path):
    http_port, tcp_port = free_port(), free_port()
    warehouse.start(tmp_path, http_port, tcp_port)
    os.kill(warehouse.status(tmp_path).pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while warehouse.status(tmp_path).running and time.monotonic() < deadline:
        time.sleep(0.1)
    with open(tmp_path / "warehouse.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # would raise if still held


def test_raw_tables_of_an_older_contract_gain_its_new_optional_columns(server):
    from orchestration.warehouse import contract, db

    client = db.client()
    client.command("CREATE DATABASE IF NOT EXISTS raw")
    client.command("DROP TABLE IF EXISTS raw.customers")
    old = [c for c in contract.raw_tables()["customers"].columns if c.name != "loyalty_points"]  # before the console
    client.command("CREATE TABLE raw.customers (" + ", ".join(f"`{c.name}` {c.type}" for c in old)
                   + ") ENGINE = MergeTree ORDER BY customer_id")
    client.command("INSERT INTO raw.customers (customer_id, signup_at, country, city, source_channel, member_tier, "
                   "segment, _load_id, _loaded_at) VALUES ('C1', '2024-01-01 00:00:00', 'DE', 'Berlin', 'organic', "
                   "'none', 'consumer', 'old', now64(3))")
    contract.create_raw_tables(client)
    columns = [r[0] for r in client.query("SELECT name FROM system.columns WHERE database = 'raw' "
                                          "AND table = 'customers' ORDER BY position").result_rows]
    assert columns == [c.name for c in contract.raw_tables()["customers"].columns]  # in the contract's place
    assert client.query("SELECT customer_id, loyalty_points FROM raw.customers").result_rows == [("C1", None)]
    assert contract.add_optional_columns(client) == []  # once
