"""`tags load DIR`: append Parquet or CSV files named after the contract tables into raw.

All or nothing, whatever dies: every file is checked against the contract and parsed into a scratch
table (database raw_load) first; only when all of them parse is the load written to raw.load_log as
started, its rows appended to raw (each stamped with the load's id) and the load marked committed,
with each file's sha256. Until it is committed its rows are invisible to staging and to the balance
(macros/staging/source.sql, staging.row_accounting). If appending fails, the rows are deleted again; if
the command or the warehouse dies part-way, the next `tags load` removes them and the scratch tables
before it starts, and says so. A load holds the warehouse's refresh lock throughout: never beside a
refresh, `tags demo` or another load.

The same content loaded twice is recognised (a file whose sha256 a committed load recorded for the same
table, its rows still in raw): a folder of nothing but such files is skipped; such a file for a table
without a key (events, order_items: every copy of a row counts) refuses the whole load, unless `again`.

Mass exact duplicates in a table without a key are loaded (they may be real) with a warning naming the
file, the table, the row and its count: when one row is in a file more than DUPLICATE_ROW_LIMIT (1,000)
times, or when more than half of a file of at least DUPLICATE_ROW_LIMIT rows are copies of another row.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from orchestration import settings
from orchestration.warehouse import contract, db, refresh_lock

if TYPE_CHECKING:
    from clickhouse_connect.driver.exceptions import ClickHouseError

# pyarrow and the ClickHouse driver are imported by the functions that use them: together 0.3 s that every
# `tags` command would pay at start, loading files or not.

SCRATCH_DATABASE = "raw_load"
DUPLICATE_ROW_LIMIT = 1_000
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


class AlreadyLoaded(LoadError):
    """Every file of the folder was loaded before, its rows still in raw: there is nothing new to load."""


@dataclass(frozen=True)
class LoadFile:
    path: Path
    table: contract.RawTable

    @property
    def format(self) -> str:
        return FORMATS[self.path.suffix.lower()]

    @property
    def columns(self) -> list[contract.Column]:
        """The contract's columns this file brings: every required one, and the optional (Nullable) ones its header
        has; the others load as NULL."""
        present = set(file_columns(self))
        return [c for c in self.table.required if not c.optional or c.name in present]


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
        import pyarrow.parquet as pq

        try:
            return list(pq.read_schema(f.path).names)
        except Exception as exc:  # pyarrow raises several types for broken files
            raise LoadError(f"{f.path}: not a readable Parquet file ({exc})") from None
    _check_utf8(f.path)
    with open(f.path, newline="", encoding="utf-8-sig") as handle:  # a byte-order mark is not part of the first name
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
    missing = [c.name for c in f.table.required if c.name not in present and not c.optional]
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
    columns = [c for c in f.columns if _value_range(c.type)]
    if not columns:
        return None
    if f.format == "CSVWithNames":
        return _first_bad_cell(client, f, scratch, columns)
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

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
    from clickhouse_connect.driver.exceptions import ClickHouseError, OperationalError
    from clickhouse_connect.driver.tools import insert_file

    columns = columns or f.columns
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
    except OperationalError:
        raise  # the warehouse went away: not a fault of the file
    except ClickHouseError:
        return None  # not even text columns fit (a broken CSV): ClickHouse's own message says more
    finally:
        client.command(f"DROP TABLE IF EXISTS {text}")
    return None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


ROW_HASH = "cityHash64(toString(tuple(*)))"  # of the whole row; cityHash64(*) is NULL when a column is


def _mass_duplicates(client, f: LoadFile, scratch: str) -> str | None:
    """A warning when a table without a key gets one row very many times, or a file mostly of copies."""
    if not f.table.keyless:
        return None
    total, copies, top, top_hash = client.query(
        f"SELECT sum(c), sum(c) - count(), max(c), argMax(h, c) FROM (SELECT {ROW_HASH} AS h, count() AS c "
        f"FROM {scratch} GROUP BY h)").result_rows[0]
    if top <= DUPLICATE_ROW_LIMIT and not (total >= DUPLICATE_ROW_LIMIT and 2 * copies > total):
        return None
    row = client.query(f"SELECT * FROM {scratch} WHERE {ROW_HASH} = {int(top_hash)} LIMIT 1")
    shown = ", ".join(f"{name}={value!r}" if isinstance(value, str) else f"{name}={value}"
                      for name, value in zip(row.column_names, row.result_rows[0]) if value is not None)
    return (f"warning: {f.path.name}: one row is in it {top:,} times ({shown}), and {copies:,} of its {total:,} rows "
            f"are exact copies of another row. raw.{f.table.name} has no key, so every copy counts as one more fact: "
            "loaded as they are (they may be real); if they are not, fix the export that wrote the file")


def _log(client, load_id: str, state: str, directory: Path, files: list[LoadFile] = (),
         fingerprints: dict[str, str] | None = None, rows: dict[str, int] | None = None) -> None:
    client.insert("load_log", [[load_id, state, str(directory), [f.table.name for f in files], [f.path.name for f in files],
                                [(fingerprints or {}).get(f.table.name, "") for f in files],
                                [(rows or {}).get(f.table.name, 0) for f in files]]],
                  column_names=["load_id", "state", "directory", "tables", "files", "sha256", "rows"],
                  database=contract.RAW_DATABASE)


def _take_back(client, load_id: str, directory: Path) -> dict[str, int]:
    """Delete every raw row of a load that was not committed, then log it cleaned. Rows removed per table."""
    removed = {}
    for table in contract.raw_tables():
        rows = int(client.command(f"SELECT count() FROM raw.{table} WHERE _load_id = {contract.quote(load_id)}"))
        if rows:
            client.command(f"DELETE FROM raw.{table} WHERE _load_id = {contract.quote(load_id)}", settings={"mutations_sync": 2})
            removed[table] = rows
    _log(client, load_id, "cleaned", directory)
    return removed


def clean_unfinished(client) -> list[str]:
    """Remove what loads that died left behind (their uncommitted rows, scratch tables); a line for each.
    Only under the refresh lock: then no other load is running."""
    notes = []
    for load_id, started in contract.unfinished_loads(client):
        removed = _take_back(client, load_id, Path(""))
        rows = ", ".join(f"{count:,} row(s) from raw.{table}" for table, count in removed.items()) or "no rows"
        notes.append(f"cleaned up the unfinished load {load_id} (started {started:%Y-%m-%d %H:%M:%S}, never committed, "
                     f"invisible since): removed {rows}")
    left = [r[0] for r in client.query("SELECT name FROM system.tables WHERE database = %(d)s ORDER BY name",
                                       parameters={"d": SCRATCH_DATABASE}).result_rows]
    for name in left:
        client.command(f"DROP TABLE IF EXISTS {SCRATCH_DATABASE}.`{name}`")
    if left:
        notes.append(f"dropped {len(left)} scratch table(s) left in {SCRATCH_DATABASE} by a load that died: {', '.join(left)}")
    return notes


def _loaded_before(client, files: list[LoadFile], fingerprints: dict[str, str]) -> dict[str, tuple[str, object]]:
    """File name -> (load id, when) of a committed load that brought the same content into the same table,
    whose rows are still in raw (`tags demo` may have replaced them since)."""
    pairs = ", ".join(f"({contract.quote(f.table.name)}, {contract.quote(fingerprints[f.table.name])})" for f in files)
    matches = client.query(
        f"SELECT t, h, load_id, at FROM {contract.LOAD_LOG} ARRAY JOIN tables AS t, sha256 AS h "
        f"WHERE state = 'committed' AND (t, h) IN ({pairs}) ORDER BY at DESC").result_rows
    found: dict[str, tuple[str, object]] = {}
    for f in files:
        for table, sha, load_id, at in matches:
            if (table, sha) == (f.table.name, fingerprints[f.table.name]) and int(client.command(
                    f"SELECT count() FROM raw.{table} WHERE _load_id = {contract.quote(load_id)}")):
                found[f.path.name] = (load_id, at)
                break
    return found


def _refuse_repeats(client, directory: Path, files: list[LoadFile], fingerprints: dict[str, str]) -> None:
    before = _loaded_before(client, files, fingerprints)
    if not before:
        return
    loads: dict[tuple[str, object], list[str]] = {}
    for name, (load_id, at) in before.items():
        loads.setdefault((load_id, at), []).append(name)
    named = "; ".join(f"{', '.join(names)} by {load_id} on {at:%Y-%m-%d %H:%M}" for (load_id, at), names in loads.items())
    if len(before) == len(files):
        raise AlreadyLoaded(f"nothing to load: every file of {directory} was already loaded ({named}) and raw holds "
                            "its rows once. To append them a second time, pass --again")
    repeats = [f for f in files if f.path.name in before and f.table.keyless]
    if repeats:
        raise LoadError("; ".join(
            f"{f.path}: already loaded by {before[f.path.name][0]} on {before[f.path.name][1]:%Y-%m-%d %H:%M}: "
            f"raw.{f.table.name} has no key, so its rows would count twice" for f in repeats)
            + ". Take the file out of the folder, or pass --again if its rows are new facts")


def load(client, directory: Path, progress: Callable[[str], None] | None = None, again: bool = False) -> dict[str, int]:
    """Append every file of directory into raw, all or nothing; returns rows appended per table.
    again: load files whose content was loaded before all the same."""
    from clickhouse_connect.driver.exceptions import OperationalError

    say = progress or (lambda _message: None)
    files = find_files(directory)
    for f in files:
        check_columns(f)
    fingerprints = {f.table.name: file_sha256(f.path) for f in files}
    try:
        with refresh_lock.held(f"tags load {directory}"):
            contract.create_raw_tables(client)
            for note in clean_unfinished(client):
                say(note)
            if not again:
                _refuse_repeats(client, directory, files, fingerprints)
            return _load(client, directory, files, fingerprints, say)
    except OperationalError as exc:
        raise db.WarehouseUnreachable(
            f"the warehouse at {settings.connection().describe()} stopped answering ({_cause(exc)}): nothing of this load "
            "is visible; once it answers again, run the same `tags load`: it first removes what this one left") from None


def _cause(exc: Exception) -> str:
    """The network error in a driver message that is mostly a URL."""
    text = str(exc)
    found = re.search(r"\[Errno -?\d+\] [^\"')]+|Remote end closed connection without response|Connection (?:reset|aborted)[^\"')]*|"
                      r"Read timed out", text)
    return found.group(0).strip().rstrip(".") if found else text.split(" executing HTTP request")[0][:200]


def _load(client, directory: Path, files: list[LoadFile], fingerprints: dict[str, str],
          say: Callable[[str], None]) -> dict[str, int]:
    from clickhouse_connect.driver.exceptions import ClickHouseError, OperationalError
    from clickhouse_connect.driver.tools import insert_file

    load_id = f"load-{uuid.uuid4().hex[:12]}"
    client.command(f"CREATE DATABASE IF NOT EXISTS {SCRATCH_DATABASE}")
    scratch = {f.table.name: f"{SCRATCH_DATABASE}.{f.table.name}_{load_id.replace('-', '_')}" for f in files}
    appended: dict[str, int] = {}
    started = False
    try:
        for f in files:
            brought = f.columns
            columns = ", ".join(f"`{c.name}` {c.type}" for c in brought)
            client.command(f"CREATE TABLE {scratch[f.table.name]} ({columns}) ENGINE = MergeTree ORDER BY tuple()")
            absent = [c.name for c in f.table.required if c not in brought]
            say(f"checking {f.path.name} against raw.{f.table.name}"
                + (f" (without optional {', '.join(absent)}: loaded as NULL)" if absent else ""))
            try:
                insert_file(client, scratch[f.table.name], str(f.path), fmt=f.format,
                            column_names=[c.name for c in brought], settings=PARSE_SETTINGS)
            except OperationalError:
                raise
            except ClickHouseError as exc:
                problem = _first_bad_cell(client, f, scratch[f.table.name]) or _clickhouse_problem(exc)
                raise LoadError(f"{f.path}: does not match raw.{f.table.name}: {problem}") from None
            rows = int(client.command(f"SELECT count() FROM {scratch[f.table.name]}"))
            if rows == 0:
                raise LoadError(f"{f.path}: has a header but no rows")
            if problem := _out_of_range(client, f, scratch[f.table.name]):
                raise LoadError(f"{f.path}: does not match raw.{f.table.name}: {problem}")
            if warning := _mass_duplicates(client, f, scratch[f.table.name]):
                say(warning)
        _log(client, load_id, "started", directory, files, fingerprints)  # from here its rows are hidden till committed
        started = True
        for f in files:
            names = ", ".join(f"`{c.name}`" for c in f.columns)
            client.command(
                f"INSERT INTO raw.{f.table.name} ({names}, _load_id, _loaded_at) "
                f"SELECT {names}, '{load_id}', now64(3) FROM {scratch[f.table.name]}"
            )
            appended[f.table.name] = int(client.command(f"SELECT count() FROM raw.{f.table.name} WHERE _load_id = '{load_id}'"))
            say(f"appended {appended[f.table.name]:,} rows to raw.{f.table.name}")
        _log(client, load_id, "committed", directory, files, fingerprints, appended)
    except Exception:
        if started:  # take back whatever part of this load reached raw; if the warehouse is gone, the next load does
            with contextlib.suppress(ClickHouseError):
                _take_back(client, load_id, directory)
        raise
    finally:
        for table in scratch.values():
            with contextlib.suppress(ClickHouseError):
                client.command(f"DROP TABLE IF EXISTS {table}")
    return appended
