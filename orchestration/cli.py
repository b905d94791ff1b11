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
                           refresh, settings, warehouse)

app = typer.Typer(help="Customer tags on ClickHouse: dbt models, refreshed and checked nightly.", no_args_is_help=True)
warehouse_app = typer.Typer(help="The embedded ClickHouse server on loopback.", no_args_is_help=True)
app.add_typer(warehouse_app, name="warehouse")
catalog_app = typer.Typer(help="The tag catalog (seeds/tag_catalog.csv).", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
tag_app = typer.Typer(help="Hand-picked (manual) tags.", no_args_is_help=True)
app.add_typer(tag_app, name="tag")
quality_app = typer.Typer(help="Tag quality: the report, and the human review of a sample.", no_args_is_help=True)
app.add_typer(quality_app, name="quality")
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


@app.command("refresh")
def refresh_command(
    as_of: AsOf = "",
    select: Annotated[list[str] | None, typer.Option(
        "--select", "-s", help="A tag key (that tag and the outputs) or a dbt selector; repeatable.")] = None,
) -> None:
    """Run the nightly job now: validate the catalog, build and test (dbt), check quality, publish to `tags`."""
    day = _as_of(as_of)
    rows = _valid_catalog()
    try:
        client = db.client()
        client.command("SELECT 1")
        for change in refresh.prepare(rows, day):
            console.print(f"  catalog sync: {change}")
        started = time.perf_counter()
        console.print(f"nightly job as of {day} (in this process; dbt output follows)")
        outcome = refresh.run(day, select, rows)
    except KNOWN_ERRORS as exc:
        _fail(str(exc))
    elapsed = time.perf_counter() - started
    _print_checks(outcome)
    if not outcome.success:
        for failure in outcome.failures:
            console.print(f"  [red]failed[/] {failure}", soft_wrap=True)
        published = "run %s was published anyway" % outcome.run_id if outcome.published else \
            "nothing was published; `tags` still holds the last published run"
        _fail(f"the refresh as of {day} failed ({elapsed:.1f} s); {published}")
    console.print(f"published run {outcome.run_id} as of {day} in {elapsed:.1f} s")
    _print_summary(day, elapsed, accounting.accounts(client))
    _print_tags(client)


def _print_checks(outcome: refresh.RefreshOutcome) -> None:
    failed = [c for c in outcome.checks if not c.passed]
    console.print(f"quality checks: {len(outcome.checks) - len(failed)} of {len(outcome.checks)} passed")
    for check in failed:
        kind = "[red]BLOCKING[/]" if check.blocking else "[yellow]warning[/]"
        console.print(f"  {kind} {check.asset} {check.check}: {check.metadata.get('message', '')}", soft_wrap=True)


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


@quality_app.command("report")
def quality_report_command() -> None:
    """Write the HTML quality report of the latest published run (reports/quality/index.html)."""
    from orchestration import report

    try:
        path = report.write(db.client(), catalog.load())
    except KNOWN_ERRORS as exc:
        _fail(str(exc))
    console.print(f"quality report: {path}")


@quality_app.command("review-sample")
def quality_review_sample(
    out: Annotated[Path, typer.Option(help="CSV sheet to write.")] = Path("reports/quality/review_sample.csv"),
    customers: Annotated[int, typer.Option(help="Customers of the accuracy sample to review.")] = 50,
) -> None:
    """Write a sheet of sampled customers' tags with their evidence, for a person to mark correct or wrong."""
    from orchestration import review

    try:
        written = review.write_sample(db.client(), out, customers)
    except KNOWN_ERRORS as exc:
        _fail(str(exc))
    console.print(f"{written} tag rows to review in {out}: fill the verdict column with correct or wrong")


@quality_app.command("review-import")
def quality_review_import(sheet: Annotated[Path, typer.Argument(help="The reviewed CSV sheet.")]) -> None:
    """Read a reviewed sheet back: human accuracy per tag (healthy over 95%, risk under 85%)."""
    from orchestration import review

    try:
        accuracies = review.import_verdicts(db.client(), sheet)
    except KNOWN_ERRORS as exc:
        _fail(str(exc))
    table = Table(title=f"Human accuracy from {sheet.name}")
    for column in ("tag", "correct", "wrong", "accuracy", "status"):
        table.add_column(column)
    for a in accuracies:
        table.add_row(a.tag_key, str(a.correct), str(a.wrong), f"{a.accuracy:.1%}", a.status)
    console.print(table)


if __name__ == "__main__":
    app()
