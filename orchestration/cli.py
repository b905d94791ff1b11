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

from orchestration import (accounting, audiences, bi_access, catalog, catalog_sync, db, dbt_runner, demo, loader, manual_tags, publish,
                           refresh, refresh_lock, settings, warehouse)

app = typer.Typer(help="Customer tags on ClickHouse: dbt models, refreshed and checked nightly.", no_args_is_help=True)
warehouse_app = typer.Typer(help="The embedded ClickHouse server on loopback.", no_args_is_help=True)
app.add_typer(warehouse_app, name="warehouse")
catalog_app = typer.Typer(help="The tag catalog (seeds/tag_catalog.csv).", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
tag_app = typer.Typer(help="Hand-picked (manual) tags.", no_args_is_help=True)
app.add_typer(tag_app, name="tag")
audience_app = typer.Typer(help="Audiences: tags combined with and / or / not, sized, compared and exported.",
                           no_args_is_help=True)
app.add_typer(audience_app, name="audience")
bi_app = typer.Typer(help="The read-only BI user (bi_reader): what it may read, on the embedded and the prod target.",
                     no_args_is_help=True)
app.add_typer(bi_app, name="bi")
quality_app = typer.Typer(help="Tag quality: the report, and the human review of a sample.", no_args_is_help=True)
app.add_typer(quality_app, name="quality")
console = Console()

AsOf = Annotated[str, typer.Option("--as-of", help="Date the run is computed as of, YYYY-MM-DD (default today).")]
KNOWN_ERRORS = (warehouse.WarehouseError, db.WarehouseUnreachable, loader.LoadError, dbt_runner.DbtFailed,
                publish.PublishError, refresh_lock.RefreshRunning, ValueError,  # ValueError: expression, export, catalog errors
                OSError)  # a full disk, a missing or unwritable file: its message names it
Expression = Annotated[str, typer.Argument(help="Tags combined with and / or / not, e.g. \"vip and not churn_risk\".")]
Format = Annotated[str, typer.Option("--format", help="csv or parquet.")]


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
    except (warehouse.WarehouseError, ValueError) as exc:  # ValueError: a bad TAGS_BI_* limit
        _fail(str(exc))
    console.print(state.describe(settings.warehouse_dir()))
    console.print(f"pipeline user default: password {settings.warehouse_password_source()}", soft_wrap=True)
    console.print(f"BI user {bi_access.BI_USER}: " + (
        f"read-only on {', '.join(bi_access.BI_DATABASES)} (password from {bi_access.PASSWORD_VARIABLE}); "
        f"{bi_access.describe_limits()}"
        if bi_access.password() else f"not created; set {bi_access.PASSWORD_VARIABLE} before starting the warehouse"),
        soft_wrap=True)


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
    errors = catalog_sync.validate_all(rows)
    if errors:
        for error in errors:
            console.print(f"  {error}", soft_wrap=True)
        _fail(f"the tag catalog or the audiences have {len(errors)} error(s); nothing was built")
    return rows


@catalog_app.command("validate")
def catalog_validate() -> None:
    """Check every catalog row (keys, names, methods, rules over customer_features, params) and every audience."""
    rows = _valid_catalog()
    console.print(f"tag catalog is valid: {len(rows)} tags, {sum(r.status == 'active' for r in rows)} active; "
                  f"{len(audiences.load())} audiences are valid")


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
    next_day: Annotated[bool, typer.Option(
        "--next-day", help="Append one more day of orders and events dated --as-of to the demo data instead of "
                           "replacing it (about 0.3% of the rows: what a nightly incremental run sees).")] = False,
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
            with refresh_lock.held("tags demo"):  # replacing raw under a running refresh would break its accounting
                if next_day:
                    counts = demo.append_day(db.client(), seed, day, progress=step)
                else:
                    counts = demo.generate(db.client(), customers, seed, day, progress=step)
        except KNOWN_ERRORS as exc:
            _fail(str(exc))
    done = f"one more day ({day}) appended" if next_day else f"demo data for {customers:,} customers"
    console.print(f"{done} (seed {seed}, as of {day}) in {time.perf_counter() - started:.1f} s")
    for table, rows in counts.items():
        console.print(f"  raw.{table:<24} {rows:>12,} rows")


@app.command("load")
def load_command(
    directory: Annotated[Path, typer.Argument(help="Folder of <table>.parquet / <table>.csv files.")],
    again: Annotated[bool, typer.Option(
        "--again", help="Load files whose content was loaded before all the same (their rows are appended once more).")] = False,
) -> None:
    """Append Parquet or CSV files named after the contract tables into raw, all or nothing (also when a process
    dies: the next load cleans up); under the warehouse's refresh lock."""
    _quiet_driver_logs()
    try:
        appended = loader.load(db.connect(on_retry=console.print), directory,
                               progress=lambda message: console.print(f"  {message}", markup=False), again=again)
    except loader.AlreadyLoaded as exc:
        console.print(str(exc), soft_wrap=True, markup=False)
        return
    except KNOWN_ERRORS as exc:
        _fail(f"nothing was loaded: {exc}")
    console.print(f"loaded {sum(appended.values()):,} rows into {len(appended)} raw table(s)")


def _quiet_driver_logs() -> None:
    """The HTTP driver logs each failed connection as a WARNING; the `error:` line names the server once."""
    import logging

    for name in ("urllib3", "clickhouse_connect"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _refresh_days(as_of: list[str] | None, first: str, last: str) -> list[dt.date]:
    """The days a refresh runs, oldest first: each --as-of, every day from --from to --to, or today."""
    if as_of and (first or last):
        _fail("give either --as-of (repeatable) or --from/--to, not both")
    if first or last:
        if not (first and last):
            _fail("--from and --to go together: the first and the last day to run")
        start, end = _as_of(first), _as_of(last)
        if end < start:
            _fail(f"--to {end} is before --from {start}")
        days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    else:
        days = sorted({_as_of(value) for value in as_of or [""]})
    from orchestration import partitions  # imports dagster: only the commands that run the job need it

    for day in days:  # every day is a partition of the job, or nothing runs
        try:
            partitions.partition_key(day)
        except ValueError as exc:
            _fail(str(exc))
    return days


@app.command("refresh")
def refresh_command(
    as_of: Annotated[list[str] | None, typer.Option(
        "--as-of", help="Date the run is computed as of, YYYY-MM-DD (default today); repeatable: the days run oldest "
                        "first.")] = None,
    first: Annotated[str, typer.Option("--from", help="With --to: run every day from this one, oldest first.")] = "",
    last: Annotated[str, typer.Option("--to", help="With --from: the last day to run.")] = "",
    select: Annotated[list[str] | None, typer.Option(
        "--select", "-s", help="A tag key (that tag and the outputs) or a dbt selector; repeatable.")] = None,
    full: Annotated[bool, typer.Option(
        "--full", help="Rebuild staging and features from all of raw instead of only what changed (gives the same tags).")] = False,
    make_current: Annotated[bool, typer.Option(
        "--publish", help="Make a backfill (an as_of before the published one) what BI reads; without it a backfill "
                          "only joins the history.")] = False,
) -> None:
    """Run the nightly job now, one partition (day) after another: validate the catalog, build and test (dbt),
    check quality, publish to `tags`. Each day is published before the next starts; a failed day stops the rest."""
    days = _refresh_days(as_of, first, last)
    rows = _valid_catalog()
    total = 0.0
    try:
        client = db.connect(on_retry=console.print)
        # held from the catalog sync (it rewrites dbt files) to the end of the last day's job
        with refresh_lock.held("tags refresh"):
            for change in refresh.prepare(rows, days[0]):
                console.print(f"  catalog sync: {change}")
            for n, day in enumerate(days):
                started = time.perf_counter()
                console.print(f"nightly job as of {day}{', full rebuild' if full else ''} (partition {n + 1} of "
                              f"{len(days)}, in this process; dbt output follows)")
                outcome = refresh.run(day, select, rows, full=full, make_current=make_current)
                elapsed = time.perf_counter() - started
                total += elapsed
                _print_outcome(day, outcome, elapsed, days[n + 1:])
    except KNOWN_ERRORS as exc:
        _fail(str(exc))
    _print_summary(days[-1], total, accounting.accounts(client))
    _print_tags(client)


def _print_outcome(day: dt.date, outcome: refresh.RefreshOutcome, elapsed: float, not_run: list[dt.date]) -> None:
    """What one day's run did; a failed one ends the command (the days after it are not run)."""
    _print_checks(outcome)
    if not outcome.success:
        for failure in outcome.failures:
            console.print(f"  [red]failed[/] {failure}", soft_wrap=True)
        published = "run %s was published anyway" % outcome.run_id if outcome.published else \
            "nothing was published; `tags` still holds the last published run"
        skipped = f"; not run: {', '.join(map(str, not_run))}" if not_run else ""
        _fail(f"the refresh as of {day} failed ({elapsed:.1f} s); {published}{skipped}")
    if outcome.backfill:
        console.print(f"published run {outcome.run_id} as of {day} into the history in {elapsed:.1f} s (a backfill: "
                      "BI still reads the later day; `--publish` makes it current)")
    else:
        console.print(f"published run {outcome.run_id} as of {day} in {elapsed:.1f} s")
    if outcome.held:
        console.print(f"[yellow]held back[/] at their last published values (stale in tags.tag_catalog): "
                      f"{', '.join(outcome.held)}; their failed checks are above", soft_wrap=True)


def _print_checks(outcome: refresh.RefreshOutcome) -> None:
    failed = [c for c in outcome.checks if not c.passed]
    console.print(f"quality checks: {len(outcome.checks) - len(failed)} of {len(outcome.checks)} passed")
    for check in failed:
        outcome = str(check.metadata.get("outcome", ""))
        kind = ("[red]BLOCKING[/]" if outcome.startswith("blocks") else "[red]HOLDS TAG[/]" if outcome.startswith("holds")
                else "[yellow]warning[/]")
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
        # a refresh counts raw rows at its start and its end: a row appended between breaks its accounting
        with refresh_lock.held(f"tags tag {action} {tag_key}"):
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
        "  dbt docs         .venv/bin/tags docs\n"
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


@tag_app.command("changes")
def tag_changes(
    out: Annotated[Path, typer.Option(help="File to write (replaced only once complete).")],
    fmt: Format = "csv",
    as_of: Annotated[str, typer.Option("--as-of", help="Published as_of (default the latest).")] = "",
    tag: Annotated[str | None, typer.Option(help="Only this tag.")] = None,
    change: Annotated[str | None, typer.Option(help="Only added, removed or changed.")] = None,
) -> None:
    """Export the tag change feed (tags.tag_changes): who gained, lost or changed a tag, for triggers."""
    from orchestration import exports

    try:
        written = exports.export_tag_changes(db.client(), fmt, out, _as_of(as_of) if as_of else None, tag, change)
    except KNOWN_ERRORS as exc:
        _fail(str(exc))
    console.print(f"{written:,} tag changes written to {out}")


def _published_catalog() -> list[catalog.CatalogRow]:
    try:
        return catalog.load()
    except ValueError as exc:
        _fail(str(exc))


@app.command("docs")
def docs_command(
    serve: Annotated[bool, typer.Option(help="Serve the site after generating it.")] = True,
    port: Annotated[int, typer.Option(help="Port of the docs site.")] = 8080,
) -> None:
    """Generate dbt docs (models, columns, lineage, exposures for audiences and the BI door) and serve them."""
    try:
        dbt_runner.run("docs generate", settings.parse_as_of(None))
    except KNOWN_ERRORS as exc:
        _fail(str(exc))
    console.print(f"dbt docs written to {settings.PROJECT_DIR / 'target' / 'index.html'}")
    if serve:
        console.print(f"serving on http://127.0.0.1:{port} (Ctrl-C stops)")
        dbt_runner.serve_docs(port)


@bi_app.command("grants")
def bi_grants(apply: Annotated[bool, typer.Option(help="Run the statements on the active target (prod only).")] = False
              ) -> None:
    """The SQL that creates the read-only BI user, its limits and quota on a ClickHouse server (the prod
    target), from TAGS_BI_PASSWORD and the TAGS_BI_* limits."""
    secret = bi_access.password()
    if not secret:
        _fail(f"set {bi_access.PASSWORD_VARIABLE} to the BI user's password first")
    try:
        statements = bi_access.prod_statements(secret)
    except ValueError as exc:
        _fail(str(exc))
    if not apply:
        for statement in statements:
            console.print(f"{statement};", soft_wrap=True, markup=False)
        return
    if settings.dbt_target() in settings.EMBEDDED_TARGETS:
        _fail(f"the embedded server defines {bi_access.BI_USER} in its users.xml: restart it with "
              f"{bi_access.PASSWORD_VARIABLE} set (`tags warehouse stop && tags warehouse start`)")
    try:
        client = db.client()
        for statement in statements:
            client.command(statement)
    except KNOWN_ERRORS as exc:
        _fail(str(exc))
    console.print(f"{bi_access.BI_USER} can read {', '.join(bi_access.BI_DATABASES)} on {settings.connection().describe()}")


@audience_app.command("list")
def audience_list() -> None:
    """Every audience of seeds/audiences.csv: live ones with their size, expired ones with their last day."""
    try:
        result = db.client().query(
            "SELECT audience_key, channel, priority, status, member_count, expires_on, last_built_as_of, expression "
            "FROM audiences.audience_catalog ORDER BY status DESC, priority")
    except KNOWN_ERRORS as exc:
        _fail(str(exc))
    table = Table(title="Audiences (audiences.audience_catalog; expressions in seeds/audiences.csv)")
    for column in ("audience", "channel", "prio", "status", "members", "expires on", "last built"):
        table.add_column(column, justify="right" if column in ("prio", "members") else "left", no_wrap=True)
    for key, channel, priority, status, members, expires_on, last_built, _ in result.result_rows:
        table.add_row(key, channel, str(priority), status if status == "live" else f"[yellow]{status}[/]",
                      f"{members:,}" if status == "live" else "-", str(expires_on), str(last_built or "never"))
    console.print(table)


@audience_app.command("size")
def audience_size(expression: Expression) -> None:
    """How many customers of the published tags match an expression (from the tag bitmaps)."""
    try:
        started = time.perf_counter()
        customers = audiences.size(db.client(), expression, _published_catalog())
    except KNOWN_ERRORS as exc:
        _fail(str(exc))
    console.print(f"{customers:,} customers ({(time.perf_counter() - started) * 1000:.0f} ms)")


@audience_app.command("preview")
def audience_preview(
    expression: Expression,
    limit: Annotated[int, typer.Option(help="Customers to show.")] = 20,
) -> None:
    """The first matching customers with the tags the expression uses (from tags.customer_profile)."""
    try:
        columns, rows = audiences.preview(db.client(), expression, _published_catalog(), limit)
    except KNOWN_ERRORS as exc:
        _fail(str(exc))
    table = Table(title=f"First {limit} customers matching: {expression}")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(value) for value in row))
    console.print(table)


@audience_app.command("overlap")
def audience_overlap(
    keys: Annotated[list[str] | None, typer.Argument(help="Audience keys (default every live audience).")] = None,
) -> None:
    """Customers shared by every pair of audiences (bitmap AND cardinalities); the report has the heatmap."""
    try:
        result = audiences.overlap(db.client(), keys)
    except KNOWN_ERRORS as exc:
        _fail(str(exc))
    table = Table(title="Customers in both audiences (row and column)")
    table.add_column("audience")
    for key in result.keys:
        table.add_column(key, justify="right")
    for a in result.keys:
        table.add_row(a, *(f"{result.shared[(a, b)]:,}" for b in result.keys))
    console.print(table)


@audience_app.command("breakdown")
def audience_breakdown(
    audience_key: Annotated[str, typer.Argument(help="A live audience.")],
    by: Annotated[str, typer.Option(help="A label tag, e.g. rfm_segment or country.")] = "rfm_segment",
) -> None:
    """An audience's members per value of a label tag."""
    try:
        parts = audiences.breakdown(db.client(), audience_key, by, _published_catalog())
    except KNOWN_ERRORS as exc:
        _fail(str(exc))
    total = sum(n for _, n in parts) or 1
    table = Table(title=f"{audience_key} by {by}")
    for column in (by, "customers", "share"):
        table.add_column(column, justify="left" if column == by else "right")
    for value, customers in parts:
        table.add_row(value, f"{customers:,}", f"{customers / total:.1%}")
    console.print(table)


@audience_app.command("export")
def audience_export(
    audience_key: Annotated[str, typer.Argument(help="A live audience of seeds/audiences.csv.")],
    out: Annotated[Path, typer.Option(help="File to write (replaced only once complete).")],
    fmt: Format = "csv",
    holdout: Annotated[str, typer.Option(help="Share held out as a control group, e.g. 10%.")] = "0%",
    seed: Annotated[str, typer.Option(help="Holdout seed: the same seed holds out the same customers.")] = "holdout",
    exclusive: Annotated[bool, typer.Option(
        help="Leave out customers in a live audience of higher priority (each customer goes to one audience).")] = False,
) -> None:
    """Write the audience's customers whose latest consent for its channel is granted, with the channel's contact field."""
    from orchestration import exports

    try:
        share = exports.parse_share(holdout)
        done = exports.export_audience(db.client(), audience_key, fmt, out, share, seed, exclusive)
    except KNOWN_ERRORS as exc:
        _fail(f"nothing was exported: {exc}")
    console.print(f"{done.exported:,} of {done.members:,} members of {audience_key} (as of {done.as_of}) written to "
                  f"{done.file} for {done.channel}")
    for reason, count in (("in a higher-priority audience", done.left_out_priority), ("held out", done.held_out),
                          ("no granted consent", done.left_out_no_consent), ("no contact", done.left_out_no_contact)):
        console.print(f"  left out, {reason}: {count:,}")
    console.print(f"  recorded in audiences.export_log as {done.export_id}")


@audience_app.command("release-holdout")
def audience_release_holdout(
    audience_key: Annotated[str, typer.Argument(help="The audience whose held-out customers are released.")],
    reason: Annotated[str, typer.Option(help="Why, kept with the release.")] = "",
) -> None:
    """Release every customer held out of an audience (its control group): the next export includes them again.
    The released rows move to audiences.holdout_releases with who, when and why."""
    from orchestration import exports

    try:
        released = exports.release_holdout(db.client(), audience_key, reason=reason)
    except KNOWN_ERRORS as exc:
        _fail(str(exc))
    console.print(f"released {released:,} customer(s) held out of {audience_key}; the next export includes them again "
                  "(recorded in audiences.holdout_releases)", soft_wrap=True)


if __name__ == "__main__":
    app()
