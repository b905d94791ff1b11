"""The raw data contract, read from the dbt sources (models/staging/_sources.yml): the one place it is written."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import yaml

from orchestration.settings import PROJECT_DIR

SOURCES_FILE = PROJECT_DIR / "models" / "staging" / "_sources.yml"
RAW_DATABASE = "raw"
# Which loads of `tags load` are whole: a load writes "started" before its first row reaches raw and
# "committed" (with each file's fingerprint) after its last; rows of a load started but neither committed
# nor cleaned are invisible to staging (macros/staging/source.sql) and to the balance (staging.row_accounting),
# and the next `tags load` removes them. Rows of other writers (tags demo, tags tag add, an ETL) have
# no entry and are always visible. fsync: the "started" row must not be lost while rows it hides survive.
LOAD_LOG = f"{RAW_DATABASE}.load_log"
LOAD_LOG_DDL = f"""CREATE TABLE IF NOT EXISTS {LOAD_LOG} (
    `load_id` String,
    `state` LowCardinality(String),
    `directory` String,
    `tables` Array(String),
    `files` Array(String),
    `sha256` Array(String),
    `rows` Array(UInt64),
    `at` DateTime64(3) DEFAULT now64(3)
)
ENGINE = MergeTree ORDER BY (load_id, at)
SETTINGS fsync_after_insert = 1, fsync_part_directory = 1"""


@dataclass(frozen=True)
class Column:
    name: str
    type: str

    @property
    def optional(self) -> bool:
        """A Nullable column may be absent from a loaded file: its rows load with NULL there."""
        return self.type.startswith("Nullable(")

    @property
    def loader_filled(self) -> bool:
        """Columns starting with `_` (load id, load time) are written by the loader, not by the file."""
        return self.name.startswith("_")


@dataclass(frozen=True)
class RawTable:
    name: str
    columns: tuple[Column, ...]
    order_by: str
    keyless: bool = False  # no key (events, order items): an exact duplicate row counts as a second fact

    @property
    def required(self) -> list[Column]:
        return [c for c in self.columns if not c.loader_filled]

    def ddl(self) -> str:
        columns = ",\n    ".join(
            f"`{c.name}` {c.type}" + (" DEFAULT now64(3)" if c.name == "_loaded_at" else "") for c in self.columns
        )
        return (
            f"CREATE TABLE IF NOT EXISTS {RAW_DATABASE}.{self.name} (\n    {columns}\n)\n"
            f"ENGINE = MergeTree ORDER BY {self.order_by}"
        )


@cache
def raw_tables() -> dict[str, RawTable]:
    document = yaml.safe_load(SOURCES_FILE.read_text())
    (source,) = [s for s in document["sources"] if s["name"] == RAW_DATABASE]
    return {
        t["name"]: RawTable(
            name=t["name"],
            columns=tuple(Column(c["name"], c["data_type"]) for c in t["columns"]),
            order_by=t["config"]["meta"]["order_by"],
            keyless=bool(t["config"]["meta"].get("keyless", False)),
        )
        for t in source["tables"]
    }


def create_raw_tables(client) -> None:
    client.command(f"CREATE DATABASE IF NOT EXISTS {RAW_DATABASE}")
    for table in raw_tables().values():
        client.command(table.ddl())
    client.command(LOAD_LOG_DDL)
    add_optional_columns(client)


def add_optional_columns(client) -> list[str]:
    """Give raw tables made under an older contract the optional (Nullable) columns it gained since, in the
    contract's place, so their rows read NULL there; returns "table.column" of each one added. A required column
    is never added: rows without it would not be what the contract promises."""
    existing: dict[str, set[str]] = {}
    for table, column in client.query("SELECT table, name FROM system.columns WHERE database = %(db)s",
                                      parameters={"db": RAW_DATABASE}).result_rows:
        existing.setdefault(table, set()).add(column)
    added = []
    for table in raw_tables().values():
        have = existing.get(table.name)
        if not have:
            continue  # not created yet: create_raw_tables makes it whole
        for before, column in zip(table.columns, table.columns[1:]):
            if column.name not in have and column.optional:
                client.command(f"ALTER TABLE {RAW_DATABASE}.{table.name} ADD COLUMN IF NOT EXISTS `{column.name}` "
                               f"{column.type} AFTER `{before.name}`")
                added.append(f"{table.name}.{column.name}")
    return added


def unfinished_loads(client) -> list[tuple[str, object]]:
    """(load id, started at) of the loads started but neither committed nor cleaned up, oldest first."""
    if not client.command(f"EXISTS TABLE {LOAD_LOG}"):
        return []
    return client.query(f"SELECT load_id, min(at) AS started FROM {LOAD_LOG} WHERE match(load_id, '^[A-Za-z0-9_-]+$') "
                        "GROUP BY load_id HAVING countIf(state IN ('committed', 'cleaned')) = 0 ORDER BY started").result_rows


def quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
