"""The `tags` command line: warehouse, demo data, loading and the nightly refresh."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from orchestration import (accounting, catalog, catalog_sync, db, dbt_runner, demo, loader, manual_tags, publish,
                           settings, warehouse)

app = typer.Typer(help="Customer tags on ClickHouse: dbt models, refreshed and checked nightly.", no_args_is_help=True)
warehouse_app = typer.Typer(help="The embedded ClickHouse server on loopback.", no_args_is_help=True)
app.add_typer(warehouse_app, name="warehouse")
catalog_app = typer.Typer(help="The tag catalog (seeds/tag_catalog.csv).", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
tag_app = typer.Typer(help="Hand-picked (manual) tags.", no_args_is_help=True)
app.add_typer(tag_app, name="tag")
console = Console()

AsOf = Annotated[str, typer.Option("--as-of", help="Date the run is computed as of, YYYY-MM-DD (default today).")]
KNOWN_ERRORS = (warehouse.WarehouseError, db.WarehouseUnreachable, loader.LoadError, dbt_runner.DbtFailed,
                publish.PublishError, ValueError)


def _fail(message: str) -> None:
    console.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    raise typer.Exit(1)


def _as_of(value: str) -> dt.date:
    try:
        return settings.parse_as_of(value)
    except ValueError as exc:
        _fail(str(exc))


@warehouse_app.command("start")
def warehouse_start() -> None:
    """Start the embedded server (data in WAREHOUSE_DIR, ports WAREHOUSE_HTTP_PORT / WAREHOUSE_TCP_PORT)."""
    try:
        state = warehouse.start(settings.warehouse_dir(), settings.http_port(), settings.tcp_port())
    except warehouse.WarehouseError as exc:
        _fail(str(exc))
    console.print(state.describe(settings.warehouse_dir()))


@warehouse_app.command("stop")
def warehouse_stop() -> None:
    """Stop the embedded server, letting running queries finish."""
    stopped = warehouse.stop(settings.warehouse_dir())
    console.print("warehouse stopped" if stopped else "warehouse was not running")


@warehouse_app.command("status")
def warehouse_status() -> None:
    """Say whether the embedded server runs and answers /ping; exit 1 if not."""
    state = warehouse.status(settings.warehouse_dir())
    console.print(state.describe(settings.warehouse_dir()))
    if not state.healthy:
        raise typer.Exit(1)


def _valid_catalog() -> list[catalog.CatalogRow]:
    """The catalog rows, or exit naming every row and column that is wrong: nothing builds from an invalid catalog."""
    try:
        rows = catalog.load()
    except ValueError as exc:
        _fail(str(exc))
    errors = catalog.validate(rows)
    if errors:
        for error in errors:
            console.print(f"  {error}", soft_wrap=True)
        _fail(f"the tag catalog has {len(errors)} error(s); nothing was built")
    return rows


@catalog_app.command("validate")
def catalog_validate() -> None:
    """Check every catalog row: keys, names, methods, rules over customer_features, params."""
    rows = _valid_catalog()
    console.print(f"tag catalog is valid: {len(rows)} tags, {sum(r.status == 'active' for r in rows)} active")


@catalog_app.command("sync")
def catalog_sync_command(check: Annotated[bool, typer.Option(help="Only report differences; exit 1 if any.")] = False) -> None:
    """Write one dbt model stub per catalog tag (models/tags/generated/), with YAML from the catalog."""
    rows = _valid_catalog()
    changes = catalog_sync.differences(rows) if check else catalog_sync.sync(rows)
    for change in changes:
        console.print(f"  {change}")
    if check and changes:
        _fail("tag model stubs disagree with the catalog: run `tags catalog sync`")
    console.print("tag models agree with the catalog" if not changes else f"{len(changes)} file(s) synced")


@app.command("demo")
def demo_command(
    customers: Annotated[int, typer.Option(help="Number of customers to generate.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed and as_of give the same rows.")] = 42,
    as_of: AsOf = "",
) -> None:
    """Replace the raw tables with generated demo data (SQL inside ClickHouse)."""
    day = _as_of(as_of)
    started = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("generating", total=None)

        def step(label: str, done: int, total: int, seconds: float) -> None:
            progress.update(task, completed=done, total=total, description=label)
            progress.console.print(f"  {label:<48} {seconds:6.2f} s")

        try:
            counts = demo.generate(db.client(), customers, seed, day, progress=step)
        except KNOWN_ERRORS as exc:
            _fail(str(exc))
    console.print(f"demo data for {customers:,} customers (seed {seed}, as of {day}) in {time.perf_counter() - started:.1f} s")
    for table, rows in counts.items():
        console.print(f"  raw.{table:<24} {rows:>12,} rows")


@app.command("load")
def load_command(directory: Annotated[Path, typer.Argument(help="Folder of <table>.parquet / <table>.csv files.")]) -> None:
    """Append Parquet or CSV files named after the contract tables into raw, all or nothing."""
    try:
        appended = loader.load(db.client(), directory, progress=lambda message: console.print(f"  {message}"))
    except KNOWN_ERRORS as exc:
        _fail(f"nothing was loaded: {exc}")
    console.print(f"loaded {sum(appended.values()):,} rows into {len(appended)} raw table(s)")


def selection(select: list[str] | None, rows: list[catalog.CatalogRow]) -> list[str] | None:
    """dbt selectors for `--select`: a catalog tag key means that tag's model, everything built from it
    (the outputs) and the catalog seed; anything else is passed to dbt as written."""
    if not select:
        return None
    keys = {r.tag_key for r in catalog_sync.built(rows)}
    selectors = [f"{catalog_sync.model_name(s)}+" if s in keys else s for s in select]
    return ["tag_catalog", *selectors] if any(s in keys for s in select) else selectors


@app.command("refresh")
def refresh_command(
    as_of: AsOf = "",
    select: Annotated[list[str] | None, typer.Option(
        "--select", "-s", help="A tag key (that tag and the outputs) or a dbt selector; repeatable.")] = None,
) -> None:
    """Validate the catalog, build and test every model as of a date (dbt build), then publish to `tags`."""
    day = _as_of(as_of)
    try:
        keep_days = publish.retention_days()
    except ValueError as exc:
        _fail(str(exc))
    rows = _valid_catalog()
    for change in catalog_sync.sync(rows):
        console.print(f"  catalog sync: {change}")
    run_id = publish.new_run_id(day)
    try:
        client = db.client()
        client.command("SELECT 1")
        started = time.perf_counter()
        console.print(f"run {run_id}: dbt build as of {day}")
        dbt_runner.run("build", day, selection(select, rows), run_id)
        built = time.perf_counter() - started
        published = publish.publish(client, run_id, day, keep_days)
        accounts = accounting.accounts(client)
    except KNOWN_ERRORS as exc:
        _fail(f"{exc}\nnothing was published; `tags` still holds the last published run")
    console.print(f"published run {published.run_id} as of {day} (built in {built:.1f} s); "
                  f"removed {published.runs_removed} unpublished or superseded run(s)"
                  + (f", dropped days past retention: {', '.join(published.days_dropped)}" if published.days_dropped else ""))
    _print_summary(day, time.perf_counter() - started, accounts)
    _print_tags(client)


def _print_tags(client) -> None:
    table = Table(title="Published tags (tags.tag_catalog)")
    for column in ("tag", "method", "members", "coverage", "expected"):
        table.add_column(column, justify="right" if column in ("members", "coverage") else "left")
    for key, method, members, coverage, low, high in client.query(
            "SELECT tag_key, method, member_count, coverage, coverage_min, coverage_max FROM tags.tag_catalog "
            "WHERE status != 'archived' ORDER BY category, tag_key").result_rows:
        inside = low <= coverage <= high
        table.add_row(key, method, f"{members:,}", f"{coverage:.1%}" if inside else f"[yellow]{coverage:.1%}[/]",
                      f"{low:.1%}-{high:.1%}")
    console.print(table)


@tag_app.command("add")
def tag_add(
    tag_key: Annotated[str, typer.Argument(help="A manual tag of the catalog.")],
    customer_ids: Annotated[list[str], typer.Argument(help="Customer ids.")],
) -> None:
    """Give customers a manual tag (appended to raw.manual_tag_assignments; published by the next refresh)."""
    _assign("add", tag_key, customer_ids)


@tag_app.command("remove")
def tag_remove(
    tag_key: Annotated[str, typer.Argument(help="A manual tag of the catalog.")],
    customer_ids: Annotated[list[str], typer.Argument(help="Customer ids.")],
) -> None:
    """Take a manual tag away from customers (the latest add or remove wins)."""
    _assign("remove", tag_key, customer_ids)


def _assign(action: str, tag_key: str, customer_ids: list[str]) -> None:
    rows = _valid_catalog()
    try:
        written = manual_tags.assign(db.client(), rows, action, tag_key, customer_ids)
    except KNOWN_ERRORS as exc:
        _fail(str(exc))
    console.print(f"{action}: {tag_key} for {written} customer(s); `tags refresh` publishes it")


def _print_summary(day: dt.date, elapsed: float, accounts: list[accounting.TableAccount]) -> None:
    table = Table(title=f"Refresh as of {day}: every raw row is staged or rejected ({elapsed:.1f} s)")
    for column in ("raw table", "raw rows", "staged", "rejected", "accounted"):
        table.add_column(column, justify="left" if column in ("raw table", "accounted") else "right")
    for account in accounts:
        table.add_row(account.table, f"{account.raw:,}", f"{account.staged:,}", f"{account.rejected:,}",
                      "yes" if account.balanced else "[red]NO[/]")
    console.print(table)
    for account in accounts:
        if account.reasons:
            reasons = "; ".join(f"{reason} ({count:,})" for reason, count in account.reasons.items())
            console.print(f"  rejected from {account.table}: {reasons}", soft_wrap=True)
    conn = settings.connection()
    console.print(
        "Where to look next:\n"
        f"  staging tables   database `staging` on {conn.describe()} (stg_<table>, stg_<table>_rejects)\n"
        "  dbt docs         .venv/bin/dbt docs generate --profiles-dir . && .venv/bin/dbt docs serve --profiles-dir .\n"
        "  SQL prompt       curl 'http://127.0.0.1:%d/?query=SELECT+count()+FROM+staging.stg_orders'" % conn.port
    )
    if not all(a.balanced for a in accounts):
        _fail("some raw rows are neither staged nor rejected (see the table above)")


if __name__ == "__main__":
    app()
