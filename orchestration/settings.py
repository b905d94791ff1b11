"""Where things are and how to reach the warehouse: the one place that reads the environment.

The same environment variables drive profiles.yml, so dbt and the Python side always talk to the
same server. Nothing secret has a default here.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent


def warehouse_dir() -> Path:
    """Data directory of the embedded server (gitignored)."""
    return Path(os.environ.get("WAREHOUSE_DIR", PROJECT_DIR / ".warehouse")).resolve()


def http_port() -> int:
    return int(os.environ.get("WAREHOUSE_HTTP_PORT", "8123"))


def tcp_port() -> int:
    return int(os.environ.get("WAREHOUSE_TCP_PORT", "9000"))


def dbt_target() -> str:
    return os.environ.get("DBT_TARGET", "local")


# Targets served by the embedded server(s) of this machine (profiles.yml): `two_shards` is the
# embedded server on WAREHOUSE_HTTP_PORT as the first of two shards.
EMBEDDED_TARGETS = ("local", "two_shards")


def on_cluster_ddl() -> bool:
    """Whether DDL on sharded tables runs ON CLUSTER: everywhere but on the embedded two shards (no
    Keeper there), the same rule as cluster_ddl_enabled() in macros/cluster/cluster.sql for dbt."""
    return dbt_target() != "two_shards"


@dataclass(frozen=True)
class Connection:
    host: str
    port: int
    user: str
    password: str
    secure: bool

    def describe(self) -> str:
        return f"{'https' if self.secure else 'http'}://{self.user}@{self.host}:{self.port}"


def connection() -> Connection:
    """HTTP connection parameters of the active dbt target, read from the same variables as profiles.yml."""
    if dbt_target() in EMBEDDED_TARGETS:
        return Connection("127.0.0.1", http_port(), "default", "", False)
    return Connection(
        host=os.environ["CLICKHOUSE_HOST"],
        port=int(os.environ.get("CLICKHOUSE_PORT", "8443")),
        user=os.environ.get("CLICKHOUSE_USER", "default"),
        password=os.environ.get("CLICKHOUSE_PASSWORD", ""),
        secure=os.environ.get("CLICKHOUSE_SECURE", "true").lower() in ("1", "true", "yes"),
    )


def parse_as_of(value: str | None) -> dt.date:
    """The as_of date of a run: an ISO date, default today, at most tomorrow (a time zone ahead)."""
    if value is None or value == "":
        return dt.date.today()
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"as_of must be a date written YYYY-MM-DD, got {value!r}") from None
    if day > dt.date.today() + dt.timedelta(days=1):
        # every window would count days that have not happened yet (days since the last order, ...)
        raise ValueError(f"as_of {day} is in the future (today is {dt.date.today()}): tags are computed as of a day that has begun")
    return day
