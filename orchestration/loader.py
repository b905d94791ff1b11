"""`tags load DIR`: append Parquet or CSV files named after the contract tables into raw.

All or nothing: every file is checked against the contract and parsed into a scratch table first;
only when all of them parse are they appended to raw, each row stamped with the load's id. If
appending fails part-way, the rows of this load are deleted again, so raw never holds half a load.
"""

from __future__ import annotations

import codecs
import csv
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
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
    _check_utf8(f.path)
    with open(f.path, newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), None)
    if not header:
        raise LoadError(f"{f.path}: no header line")
    return [name.strip() for name in header]


def _check_utf8(path: Path) -> None:
    """The whole file, not only its header: ClickHouse stores any bytes in a String without a word."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                bad_line = line + chunk[:exc.start].count(b"\n")
                raise LoadError(f"{path}: not UTF-8 text (line {bad_line})") from None
            line += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise LoadError(f"{path}: not UTF-8 text (it ends inside a character)") from None


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


INTEGER = re.compile(r"(?:Nullable\()?(U?)Int(8|16|32|64)\)?")
DATETIME = re.compile(r"(?:Nullable\()?DateTime\)?")
DATETIME_RANGE = (0, 2 ** 32 - 1)  # seconds since 1970: DateTime holds 1970-01-01 to 2106-02-07


def _value_range(clickhouse_type: str) -> tuple[int, int] | None:
    """What an integer or DateTime column holds; ClickHouse wraps or clamps what is outside without a word."""
    if DATETIME.fullmatch(clickhouse_type):
        return DATETIME_RANGE
    match = INTEGER.fullmatch(clickhouse_type)
    if not match:
        return None
    bits = int(match.group(2))
    return (0, 2 ** bits - 1) if match.group(1) else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


def _out_of_range(client, f: LoadFile, scratch: str) -> str | None:
    """An integer too big for its column (99999999999 would become an Int32 of 1215752191) or a time
    outside DateTime's years (1900 would become 1970), which ClickHouse takes without a word."""
    columns = [c for c in f.table.required if _value_range(c.type)]
    if not columns:
        return None
    if f.format == "CSVWithNames":
        return _first_bad_cell(client, f, scratch, columns)
    table = pq.read_table(f.path, columns=[c.name for c in columns])
    for c in columns:
        low, high = _value_range(c.type)
        values = table.column(c.name)
        if pa.types.is_timestamp(values.type):
            numbers = pc.cast(pc.cast(values, pa.timestamp("s", values.type.tz), safe=False), pa.int64())
        elif pa.types.is_integer(values.type):
            numbers = values
        else:
            continue  # ClickHouse checked the conversion
        outside = pc.or_(pc.less(numbers, low), pc.greater(numbers, high))
        if pc.any(outside).as_py():
            row = pc.index(outside, True).as_py()
            return f"row {row + 1}, column {c.name}: {values[row].as_py()} is outside what {c.type} holds"
    return None


def _first_bad_cell(client, f: LoadFile, scratch: str, columns: list[contract.Column] | None = None) -> str | None:
    """The first cell of a CSV that is not of its column's type ("row 3, column amount: 'ten' is not of type
    Nullable(Decimal(18, 2))"), for the parse errors where ClickHouse names neither and for integers
    too big for their type; None if not found."""
    if f.format != "CSVWithNames":
        return None
    columns = columns or f.table.required
    text = f"{scratch}_text"
    client.command(f"CREATE TABLE {text} ("
                   + ", ".join(f"`{c.name}` Nullable(String)" for c in columns) + ") ENGINE = Memory")
    try:
        names = [c.name for c in columns]
        insert_file(client, text, str(f.path), fmt=f.format, column_names=names, settings=PARSE_SETTINGS)
        for c in columns:
            inner = re.sub(r"^(?:Nullable|LowCardinality)\((.*)\)$", r"\1", c.type)
            parsed = f"accurateCastOrNull(`{c.name}`, '{inner}')"
            if inner == "DateTime":  # as the load parses it, and within the years DateTime holds
                parsed = (f"if(toUnixTimestamp64Second(parseDateTime64BestEffortOrNull(`{c.name}`, 0, 'UTC') AS t) "
                          f"BETWEEN {DATETIME_RANGE[0]} AND {DATETIME_RANGE[1]}, t, NULL)")
            elif inner.startswith("DateTime"):
                parsed = f"parseDateTime64BestEffortOrNull(`{c.name}`)"
            bad = client.query(f"SELECT row, value FROM (SELECT rowNumberInAllBlocks() + 1 AS row, `{c.name}` AS value, "
                               f"{parsed} AS parsed FROM {text}) WHERE value != '' AND parsed IS NULL "
                               "ORDER BY row LIMIT 1").result_rows
            if bad:
                held = " (it holds 1970-01-01 to 2106-02-07)" if inner == "DateTime" else ""
                return f"row {bad[0][0]}, column {c.name}: {bad[0][1]!r} is not of type {c.type}{held}"
    except ClickHouseError:
        return None  # not even text columns fit (a broken CSV): ClickHouse's own message says more
    finally:
        client.command(f"DROP TABLE IF EXISTS {text}")
    return None


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
                problem = _first_bad_cell(client, f, scratch[f.table.name]) or _clickhouse_problem(exc)
                raise LoadError(f"{f.path}: does not match raw.{f.table.name}: {problem}") from None
            rows = int(client.command(f"SELECT count() FROM {scratch[f.table.name]}"))
            if rows == 0:
                raise LoadError(f"{f.path}: has a header but no rows")
            if problem := _out_of_range(client, f, scratch[f.table.name]):
                raise LoadError(f"{f.path}: does not match raw.{f.table.name}: {problem}")
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
