"""`tags load DIR`: append Parquet or CSV files named after the contract tables into raw.

All or nothing: every file is checked against the contract and parsed into a scratch table first;
only when all of them parse are they appended to raw, each row stamped with the load's id. If
appending fails part-way, the rows of this load are deleted again, so raw never holds half a load.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
from clickhouse_connect.driver.exceptions import ClickHouseError
from clickhouse_connect.driver.tools import insert_file

from orchestration import contract

SCRATCH_DATABASE = "raw_load"
FORMATS = {".parquet": "Parquet", ".csv": "CSVWithNames"}
# Strict parsing: an empty or null value in a non-Nullable column is an error, not a silent default.
PARSE_SETTINGS = {
    "input_format_skip_unknown_fields": 1,  # extra columns are allowed
    "input_format_csv_empty_as_default": 0,
    "format_csv_null_representation": "",
    "input_format_null_as_default": 0,
    "date_time_input_format": "best_effort",
}


class LoadError(ValueError):
    """A file that breaks the contract: the message names the file, the column and the problem."""


@dataclass(frozen=True)
class LoadFile:
    path: Path
    table: contract.RawTable

    @property
    def format(self) -> str:
        return FORMATS[self.path.suffix.lower()]


def find_files(directory: Path) -> list[LoadFile]:
    if not directory.is_dir():
        raise LoadError(f"{directory}: not a directory")
    tables = contract.raw_tables()
    found: list[LoadFile] = []
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() not in FORMATS:
            continue
        if path.stem not in tables:
            raise LoadError(f"{path}: no contract table is named {path.stem!r}; expected one of {', '.join(tables)}")
        found.append(LoadFile(path, tables[path.stem]))
    if not found:
        raise LoadError(f"{directory}: no .parquet or .csv file named after a contract table ({', '.join(tables)})")
    seen: dict[str, Path] = {}
    for f in found:
        if f.table.name in seen:
            raise LoadError(f"{f.path}: {seen[f.table.name].name} is also for table {f.table.name}; give one file per table")
        seen[f.table.name] = f.path
    return found


def file_columns(f: LoadFile) -> list[str]:
    """Column names in the file's header, with a clear error for unreadable files."""
    if f.path.stat().st_size == 0:
        raise LoadError(f"{f.path}: the file is empty")
    if f.format == "Parquet":
        try:
            return list(pq.read_schema(f.path).names)
        except Exception as exc:  # pyarrow raises several types for broken files
            raise LoadError(f"{f.path}: not a readable Parquet file ({exc})") from None
    try:
        with open(f.path, newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle), None)
    except UnicodeDecodeError as exc:
        raise LoadError(f"{f.path}: not UTF-8 text (byte {exc.start} of the header line)") from None
    if not header:
        raise LoadError(f"{f.path}: no header line")
    return [name.strip() for name in header]


def check_columns(f: LoadFile) -> None:
    present = set(file_columns(f))
    missing = [c.name for c in f.table.required if c.name not in present]
    if missing:
        raise LoadError(f"{f.path}: missing required column(s) {', '.join(missing)} of raw.{f.table.name}")


def _clickhouse_problem(exc: ClickHouseError) -> str:
    """The useful lines of a ClickHouse parse error: the code line and the column that failed."""
    text = str(exc).split("server response:", 1)[-1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = next((line for line in lines if line.startswith("Code:")), lines[0] if lines else text)
    failing = [line for line in lines if "ERROR" in line and line.startswith("Column")]
    return first.split(" (version")[0] + (f"; {failing[0]}" if failing else "")


def load(client, directory: Path, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Append every file of directory into raw; returns rows appended per table."""
    say = progress or (lambda _message: None)
    files = find_files(directory)
    for f in files:
        check_columns(f)
    contract.create_raw_tables(client)
    load_id = f"load-{uuid.uuid4().hex[:12]}"
    client.command(f"CREATE DATABASE IF NOT EXISTS {SCRATCH_DATABASE}")
    scratch = {f.table.name: f"{SCRATCH_DATABASE}.{f.table.name}_{load_id.replace('-', '_')}" for f in files}
    appended: dict[str, int] = {}
    try:
        for f in files:
            columns = ", ".join(f"`{c.name}` {c.type}" for c in f.table.required)
            client.command(f"CREATE TABLE {scratch[f.table.name]} ({columns}) ENGINE = MergeTree ORDER BY tuple()")
            say(f"checking {f.path.name} against raw.{f.table.name}")
            try:
                insert_file(client, scratch[f.table.name], str(f.path), fmt=f.format,
                            column_names=[c.name for c in f.table.required], settings=PARSE_SETTINGS)
            except ClickHouseError as exc:
                raise LoadError(f"{f.path}: does not match raw.{f.table.name}: {_clickhouse_problem(exc)}") from None
            rows = int(client.command(f"SELECT count() FROM {scratch[f.table.name]}"))
            if rows == 0:
                raise LoadError(f"{f.path}: has a header but no rows")
        for f in files:
            names = ", ".join(f"`{c.name}`" for c in f.table.required)
            client.command(
                f"INSERT INTO raw.{f.table.name} ({names}, _load_id, _loaded_at) "
                f"SELECT {names}, '{load_id}', now64(3) FROM {scratch[f.table.name]}"
            )
            appended[f.table.name] = int(client.command(f"SELECT count() FROM raw.{f.table.name} WHERE _load_id = '{load_id}'"))
            say(f"appended {appended[f.table.name]:,} rows to raw.{f.table.name}")
    except Exception:
        # Take back whatever part of this load reached raw.
        for f in files:
            client.command(f"DELETE FROM raw.{f.table.name} WHERE _load_id = '{load_id}'", settings={"mutations_sync": 2})
        raise
    finally:
        for table in scratch.values():
            client.command(f"DROP TABLE IF EXISTS {table}")
    return appended
