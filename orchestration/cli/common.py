"""What every `tags` command shares: the console, the one error handler, and the arguments several take."""

from __future__ import annotations

import datetime as dt
import enum
import functools
import json
import logging
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from orchestration import settings
from orchestration.catalog import catalog, catalog_sync
from orchestration.dagster import dbt_runner
from orchestration.publishing import publish
from orchestration.warehouse import db, loader, refresh_lock, warehouse

# Piped into a file or another program, tables keep their whole rows instead of being cut at 80 columns.
console = Console(width=None if sys.stdout.isatty() else 200)

# What a command may raise that is the user's to fix: one `error:` line naming it, exit 1, no traceback.
KNOWN_ERRORS = (warehouse.WarehouseError, db.WarehouseUnreachable, loader.LoadError, dbt_runner.DbtFailed,
                publish.PublishError, refresh_lock.RefreshRunning,
                ValueError,  # an expression, export, catalog or setting that is wrong; the message says which
                OSError)  # a full disk, a missing or unwritable file: its message names it

AsOf = Annotated[str, typer.Option("--as-of", help="Date the run is computed as of, YYYY-MM-DD (default today).")]
Expression = Annotated[str, typer.Argument(help="Tags combined with and / or / not, e.g. \"vip and not churn_risk\".")]


class FileFormat(str, enum.Enum):
    csv = "csv"
    parquet = "parquet"


class Change(str, enum.Enum):
    added = "added"
    removed = "removed"
    changed = "changed"


Format = Annotated[FileFormat, typer.Option("--format", help="File format.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON (a list of objects, values unformatted) instead of a table.")]


def show(table: Table, columns: list[str], rows: list, as_json: bool) -> None:
    """A command's rows: a table for people, or with --json one JSON list of objects for scripts."""
    if as_json:
        print_json([dict(zip(columns, row)) for row in rows])
    else:
        console.print(table)


def print_json(value) -> None:
    """Plain JSON on stdout (no colours, no wrapping), dates and decimals as text."""
    sys.stdout.write(json.dumps(value, default=str, ensure_ascii=False) + "\n")


class CommandError(Exception):
    """A command's own failure, with the sentence to print after `error:`."""


def fail(message: str) -> None:
    console.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    raise typer.Exit(1)


class App(typer.Typer):
    """A Typer whose commands share one error handler: a known error becomes one `error:` line and exit 1."""

    def command(self, *args, **kwargs):
        register = super().command(*args, **kwargs)

        def decorator(function):
            @functools.wraps(function)
            def handled(*call_args, **call_kwargs):
                try:
                    return function(*call_args, **call_kwargs)
                except (CommandError, *KNOWN_ERRORS) as exc:
                    fail(str(exc))

            register(handled)
            return function

        return decorator


def as_of(value: str) -> dt.date:
    return settings.parse_as_of(value)


def valid_catalog() -> list[catalog.CatalogRow]:
    """The catalog rows, or exit naming every row and column that is wrong: nothing builds from an invalid catalog."""
    rows = catalog.load()
    errors = catalog_sync.validate_all(rows)
    if errors:
        for error in errors:
            console.print(f"  {error}", soft_wrap=True)
        raise CommandError(f"the tag catalog or the audiences have {len(errors)} error(s); nothing was built")
    return rows


def quiet_driver_logs() -> None:
    """The HTTP driver logs each failed connection as a WARNING; the `error:` line names the server once."""
    for name in ("urllib3", "clickhouse_connect"):
        logging.getLogger(name).setLevel(logging.ERROR)
