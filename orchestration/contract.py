"""The raw data contract, read from the dbt sources (models/staging/_sources.yml): the one place it is written."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import yaml

from orchestration.settings import PROJECT_DIR

SOURCES_FILE = PROJECT_DIR / "models" / "staging" / "_sources.yml"
RAW_DATABASE = "raw"


@dataclass(frozen=True)
class Column:
    name: str
    type: str

    @property
    def loader_filled(self) -> bool:
        """Columns starting with `_` (load id, load time) are written by the loader, not by the file."""
        return self.name.startswith("_")


@dataclass(frozen=True)
class RawTable:
    name: str
    columns: tuple[Column, ...]
    order_by: str

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
        )
        for t in source["tables"]
    }


def create_raw_tables(client) -> None:
    client.command(f"CREATE DATABASE IF NOT EXISTS {RAW_DATABASE}")
    for table in raw_tables().values():
        client.command(table.ddl())
