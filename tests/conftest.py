"""Shared fixtures: a real embedded ClickHouse server per test module, never a mock."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestration.catalog import catalog
from orchestration.dagster import refresh
from orchestration.warehouse import db, demo
from orchestration.warehouse import warehouse
from tests.integration.known import AS_OF


BI_TEST_PASSWORD = "bi-test-password"  # the read-only BI user of every test server
TAGS_COMMAND = str(Path(sys.executable).with_name("tags"))  # the command line as make run installs it


def tags_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run `tags ...` in a process of its own, in this environment plus env."""
    return subprocess.run([TAGS_COMMAND, *args], capture_output=True, text=True, env={**os.environ, **(env or {})},
                          timeout=timeout)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def environment(**variables: str) -> Iterator[None]:
    """Set environment variables for a while, then put back what was there (or nothing)."""
    saved = {key: os.environ.get(key) for key in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass(frozen=True)
class Server:
    root: Path
    http_port: int
    tcp_port: int

    def env(self) -> dict[str, str]:
        return {"WAREHOUSE_DIR": str(self.root), "WAREHOUSE_HTTP_PORT": str(self.http_port),
                "WAREHOUSE_TCP_PORT": str(self.tcp_port), "DBT_TARGET": "local",
                "TAGS_BI_PASSWORD": BI_TEST_PASSWORD, "DAGSTER_HOME": str(self.root / "dagster")}


@contextlib.contextmanager
def running_server(root: Path) -> Iterator[Server]:
    """A server on free ports with its data in root, pointed at by the environment (dbt too)."""
    instance = Server(root, free_port(), free_port())
    with environment(**instance.env()):
        warehouse.start(instance.root, instance.http_port, instance.tcp_port)
        try:
            yield instance
        finally:
            warehouse.stop(instance.root)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    """A server of the test module's own, in a temporary directory."""
    with running_server(tmp_path_factory.mktemp("warehouse")) as instance:
        yield instance


@pytest.fixture(scope="module")
def client(server):
    return db.client()


@pytest.fixture(scope="session")
def demo_night_template(tmp_path_factory) -> tuple[Path, refresh.RefreshOutcome]:
    """2,000 demo customers (seed 42), published as of AS_OF by the nightly job, once a session on a server of its
    own, then stopped: each module that needs the night starts from a copy (a night costs about a minute)."""
    root = tmp_path_factory.mktemp("demo-night")
    with running_server(root):
        demo.generate(db.client(), 2000, 42, AS_OF)
        outcome = refresh.run(AS_OF, None, catalog.load())
        assert outcome.success and outcome.published, outcome.failures
    return root, outcome


@pytest.fixture(scope="module")
def demo_night(server, demo_night_template):
    """The demo night in the module's own server: the template's directory (tables and the Dagster instance that
    recorded the run) copied over the module's, then started again on the module's ports."""
    template, outcome = demo_night_template
    warehouse.stop(server.root)
    shutil.rmtree(server.root)
    shutil.copytree(template, server.root, symlinks=True)  # the tables' links into store/ are relative
    warehouse.start(server.root, server.http_port, server.tcp_port)
    return outcome


# Columns that record when a row was built, not what it says.
BUILD_TIME_COLUMNS = {"_staged_at"}


def table_checksums(client, tables: list[str], ignored: set[str] = BUILD_TIME_COLUMNS) -> dict[str, tuple]:
    """Row count and an order-independent hash of every row of each table, but for the ignored columns. A bitmap is
    hashed as its sorted members: the bytes of a small bitmap state keep the order rows were aggregated in."""
    found = {}
    for table in tables:
        database, name = table.split(".")
        columns = [f"arraySort(bitmapToArray(`{column}`))" if kind.startswith("AggregateFunction(groupBitmap")
                   else f"`{column}`" for column, kind in client.query(
            "SELECT name, type FROM system.columns WHERE database = %(d)s AND table = %(t)s ORDER BY position",
            parameters={"d": database, "t": name}).result_rows if column not in ignored]
        row = ", ".join(columns)
        found[table] = client.query(f"SELECT count(), sum(cityHash64(toString(tuple({row})))) FROM {table}").result_rows[0]
    return found


def published_state(client) -> dict[str, object]:
    """What BI sees now, whole: the current run, its long table, its catalog, the profile and the audiences."""
    def rows(sql: str) -> list[tuple]:
        return client.query(sql).result_rows
    return {
        "runs": rows("SELECT run_id, as_of FROM tag_store.publish_log ORDER BY published_at"),
        "tags": rows("SELECT cityHash64(groupArray((customer_id, tag_key, tag_value))), count() "
                     "FROM (SELECT * FROM tags.customer_tags ORDER BY ALL)"),
        "catalog": rows("SELECT tag_key, member_count FROM tags.tag_catalog ORDER BY tag_key"),
        "profile": rows("SELECT count(), sum(vip) FROM tags.customer_profile"),
        "audiences": rows("SELECT audience_key, member_count FROM audiences.audience_catalog ORDER BY audience_key"),
    }
