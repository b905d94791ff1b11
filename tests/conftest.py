"""Shared fixtures: a real embedded ClickHouse server per test module, never a mock."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestration import db, warehouse


BI_TEST_PASSWORD = "bi-test-password"  # the read-only BI user of every test server


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
                "TAGS_BI_PASSWORD": BI_TEST_PASSWORD}


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    """A server on free ports with its own data directory, pointed at by the environment (dbt too)."""
    instance = Server(tmp_path_factory.mktemp("warehouse"), free_port(), free_port())
    with environment(**instance.env()):
        warehouse.start(instance.root, instance.http_port, instance.tcp_port)
        try:
            yield instance
        finally:
            warehouse.stop(instance.root)


@pytest.fixture(scope="module")
def client(server):
    return db.client()
