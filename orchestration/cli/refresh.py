"""`tags refresh`: the nightly job now, in this process, and what it did."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from orchestration.relations import relation
from orchestration import settings
from orchestration.cli.common import CommandError, as_of as parse_as_of, console, valid_catalog
from orchestration.dagster import refresh
from orchestration.quality import accounting
from orchestration.warehouse import db, refresh_lock


def _refresh_days(as_of: list[str] | None, first: str, last: str) -> list[dt.date]:
    """The days a refresh runs, oldest first: each --as-of, every day from --from to --to, or today."""
    if as_of and (first or last):
        raise CommandError("give either --as-of (repeatable) or --from/--to, not both")
    if first or last:
        if not (first and last):
            raise CommandError("--from and --to go together: the first and the last day to run")
        start, end = parse_as_of(first), parse_as_of(last)
        if end < start:
            raise CommandError(f"--to {end} is before --from {start}")
        days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    else:
        days = sorted({parse_as_of(value) for value in as_of or [""]})
    from orchestration.dagster import partitions  # imports dagster: only the commands that run the job need it

    for day in days:  # every day is a partition of the job, or nothing runs (ValueError names the range)
        partitions.partition_key(day)
    return days


def refresh_command(
    as_of: Annotated[list[str] | None, typer.Option(
        "--as-of", help="Date the run is computed as of, YYYY-MM-DD (default today); repeatable: the days run oldest "
                        "first.")] = None,
    first: Annotated[str, typer.Option("--from", help="With --to: run every day from this one, oldest first.")] = "",
    last: Annotated[str, typer.Option("--to", help="With --from: the last day to run.")] = "",
    select: Annotated[list[str] | None, typer.Option(
        "--select", "-s", help="A tag key (that tag and the outputs) or a dbt selector; repeatable. Tags the published "
                               "night did not build (new catalog rows) are built alone onto that night and published "
                               "beside its tags, unless --as-of names another day.")] = None,
    full: Annotated[bool, typer.Option(
        "--full", help="Rebuild staging and features from all of raw instead of only what changed (gives the same tags).")] = False,
    make_current: Annotated[bool, typer.Option(
        "--publish", help="Make a backfill (an as_of before the published one) what BI reads; without it a backfill "
                          "only joins the history.")] = False,
    cutoff: Annotated[str, typer.Option(
        "--cutoff", help="The instant the run is evaluated at, 'YYYY-MM-DD HH:MM' in the warehouse's time zone, or now: "
                         "facts before it are taken, and tags with evaluated_at = cutoff count back from it. Default: the "
                         "end of the as_of day (a replay gives the same tags whenever it runs).")] = "",
    intraday: Annotated[bool, typer.Option(
        "--intraday", help="Run the intraday lane instead: only the tags of catalog lane intraday, as of the published "
                           "night, from the rows loaded since, evaluated at --cutoff (default now).")] = False,
) -> None:
    """Run the nightly job now, one partition (day) after another: validate the catalog, build and test (dbt),
    check quality, publish to `tags`. Each day is published before the next starts; a failed day stops the rest."""
    if intraday:
        if as_of or first or last or select or full or make_current:
            raise CommandError("--intraday runs the intraday lane as of the published night: it takes --cutoff only")
        _refresh_intraday(cutoff or "now")
        return
    new = _new_tags(select, as_of) if select and not (first or last or full or make_current or cutoff) else []
    if new:
        _refresh_new_tags(new)
        return
    days = _refresh_days(as_of, first, last)
    if cutoff and len(days) > 1:
        raise CommandError("--cutoff is the instant of one run: give one --as-of with it")
    instant = _cutoff(cutoff, days[0]) if cutoff else None
    rows = valid_catalog()
    total = 0.0
    client = db.connect(on_retry=console.print)
    # held from the catalog sync (it rewrites dbt files) to the end of the last day's job
    with refresh_lock.held("tags refresh"):
        for change in refresh.prepare(rows, days[0]):
            console.print(f"  catalog sync: {change}")
        for n, day in enumerate(days):
            started = time.perf_counter()
            console.print(f"nightly job as of {day}{f', cutoff {instant}' if instant else ''}"
                          f"{', full rebuild' if full else ''} (partition {n + 1} of {len(days)}, in this process; "
                          "dbt output follows)")
            outcome = refresh.run(day, select, rows, full=full, make_current=make_current, cutoff=instant)
            elapsed = time.perf_counter() - started
            total += elapsed
            _print_outcome(day, outcome, elapsed, days[n + 1:])
    _print_summary(days[-1], total, accounting.accounts(client))
    _print_tags(client)


def _new_tags(select: list[str], as_of: list[str] | None) -> list[str]:
    """The selected tags when every one is a catalog row the published night did not build and the run is as of that
    night (no --as-of, or its day): they are built alone onto it. Otherwise none (the whole day runs)."""
    from orchestration.publishing import publish

    rows = valid_catalog()
    if not set(select) <= {r.tag_key for r in rows}:
        return []  # a dbt selector (or a key the catalog has not): the whole day runs
    client = db.connect(on_retry=console.print)
    if not int(client.command(f"EXISTS {relation('published_run')}")) or (current := publish.current_run(client)) is None:
        return []  # nothing published yet: the whole day runs
    if as_of and {parse_as_of(day) for day in as_of} != {current[1]}:
        return []
    # a tag the night built, or a night published by an earlier version (whose views cannot show the new tags'
    # run): the whole day runs
    keys = sorted(set(select))
    return [] if publish.new_tags_refusal(keys, rows, publish.night_tag_keys(client)) else keys


def _refresh_new_tags(keys: list[str]) -> None:
    """New catalog rows built alone onto the published night, and what the run did."""
    day, outcome, elapsed = _refining_run(f"new tags {', '.join(keys)}, built alone onto the published night",
                                          "tags refresh --select", dt.date.today(), lambda: refresh.run_new_tags(keys))
    console.print(f"published {', '.join(keys)} as of {day} (run {outcome.run_id}) in {elapsed:.1f} s, beside the "
                  "night's tags; the next night builds them with the rest (their profile column starts then)")
    _print_tags(db.connect(on_retry=console.print))


def _refresh_intraday(cutoff: str) -> None:
    """One run of the intraday lane, and what it did."""
    from orchestration.publishing import publish

    client = db.connect(on_retry=console.print)
    current = publish.current_run(client)
    if current is None:
        raise CommandError("no night is published yet: the intraday lane refines the published night (run `tags refresh`)")
    instant = _cutoff(cutoff, current[1])
    day, outcome, elapsed = _refining_run(f"the intraday lane as of {current[1]}, cutoff {instant}",
                                          "tags refresh --intraday", current[1], lambda: refresh.run_intraday(instant))
    console.print(f"published intraday run {outcome.run_id} as of {day}, cutoff {instant}, in {elapsed:.1f} s")
    for lane, published_at, evaluated, keys in client.query(
            f"SELECT lane, published_at, cutoff, tag_keys FROM {relation('published_lanes')}").result_rows:
        console.print(f"  {lane}: evaluated at {evaluated}, published {published_at:%Y-%m-%d %H:%M:%S}"
                      f"{' (' + ', '.join(keys) + ')' if keys else ''}")


def _refining_run(what: str, lock_holder: str, as_of: dt.date, start) -> tuple[dt.date, refresh.RefreshOutcome, float]:
    """A run that refines the published night (start() runs it; what names it), under the refresh lock after the
    catalog sync: its as_of, outcome and seconds, or exit naming what failed (nothing was published then)."""
    rows = valid_catalog()
    with refresh_lock.held(lock_holder):
        for change in refresh.prepare(rows, as_of):
            console.print(f"  catalog sync: {change}")
        started = time.perf_counter()
        console.print(f"{what} (in this process; dbt output follows)")
        try:
            day, outcome = start()
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        elapsed = time.perf_counter() - started
        _print_checks(outcome)
        if not outcome.success:
            for failure in outcome.failures:
                console.print(f"  [red]failed[/] {failure}", soft_wrap=True)
            raise CommandError(f"the run of {what} failed ({elapsed:.1f} s); nothing was published: BI shows what it "
                               "showed")
    return day, outcome, elapsed


def _cutoff(text: str, day: dt.date) -> dt.datetime:
    """--cutoff: now (the wall clock in NIGHTLY_TIMEZONE, the warehouse's) or a written instant after the day began."""
    from orchestration.dagster.partitions import parse_cutoff, timezone

    if text.strip().lower() == "now":
        text = dt.datetime.now(ZoneInfo(timezone())).replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")
    try:
        return parse_cutoff(text, day)
    except ValueError as exc:
        raise CommandError(f"--cutoff: {exc}") from None


def ui_command(
    port: Annotated[int, typer.Option("--port", "-p", help="Port of the web UI.")] = 3000,
) -> None:
    """Open Dagster's UI (dagster dev) on the instance every refresh is recorded in: runs, checks and
    materializations with their history, backfills, and the schedule (off unless NIGHTLY_SCHEDULE=on)."""
    from orchestration.dagster import instance

    home = instance.prepared_home()
    console.print(f"Dagster UI on http://127.0.0.1:{port}, instance {home} (Ctrl-C stops it)")
    os.chdir(settings.PROJECT_DIR)
    dagster = str(Path(sys.executable).with_name("dagster"))
    os.execv(dagster, [dagster, "dev", "-m", "orchestration.dagster.definitions", "-p", str(port)])


def _print_outcome(day: dt.date, outcome: refresh.RefreshOutcome, elapsed: float, not_run: list[dt.date]) -> None:
    """What one day's run did; a failed one ends the command (the days after it are not run)."""
    _print_checks(outcome)
    if not outcome.success:
        for failure in outcome.failures:
            console.print(f"  [red]failed[/] {failure}", soft_wrap=True)
        published = "run %s was published anyway" % outcome.run_id if outcome.published else \
            "nothing was published; `tags` still holds the last published run"
        skipped = f"; not run: {', '.join(map(str, not_run))}" if not_run else ""
        raise CommandError(f"the refresh as of {day} failed ({elapsed:.1f} s); {published}{skipped}")
    if outcome.backfill:
        console.print(f"published run {outcome.run_id} as of {day} into the history in {elapsed:.1f} s (a backfill: "
                      "BI still reads the later day; `--publish` makes it current)")
    else:
        console.print(f"published run {outcome.run_id} as of {day} in {elapsed:.1f} s")
    if outcome.held:
        console.print(f"[yellow]held back[/] at their last published values (stale in {relation('published_tag_catalog')}): "
                      f"{', '.join(outcome.held)}; their failed checks are above", soft_wrap=True)


def _print_checks(outcome: refresh.RefreshOutcome) -> None:
    failed = [c for c in outcome.checks if not c.passed]
    console.print(f"quality checks: {len(outcome.checks) - len(failed)} of {len(outcome.checks)} passed")
    for check in failed:
        outcome = str(check.metadata.get("outcome", ""))
        kind = ("[red]BLOCKING[/]" if outcome.startswith("blocks") else "[red]HOLDS TAG[/]" if outcome.startswith("holds")
                else "[yellow]warning[/]")
        if "tag_key" in check.metadata:  # a quality check: its tag, check, figure and range (quality.check_results)
            observed = check.metadata["observed"]
            console.print(f"  {kind} {check.asset} {check.metadata['check']}: observed "
                          f"{'none' if observed is None else f'{observed:.4g}'}, expected {check.metadata['expected']} "
                          f"({check.metadata['message']})", soft_wrap=True)
        else:
            # a dbt test has no message of its own: its failing rows say how much is wrong (dagster-dbt's metadata)
            failing = check.metadata.get("dagster_dbt/failed_row_count")
            message = check.metadata.get("message") or ("" if failing is None else f"{failing} failing row(s)")
            console.print(f"  {kind} {check.asset} {check.check}: {message}", soft_wrap=True)


def _print_tags(client) -> None:
    table = Table(title=f"Published tags ({relation('published_tag_catalog')})")
    for column in ("tag", "method", "members", "coverage", "expected"):
        table.add_column(column, justify="right" if column in ("members", "coverage") else "left")
    for key, method, members, coverage, low, high in client.query(
            f"SELECT tag_key, method, member_count, coverage, coverage_min, coverage_max FROM {relation('published_tag_catalog')} "
            "WHERE status != 'archived' ORDER BY category, tag_key").result_rows:
        inside = low <= coverage <= high
        table.add_row(key, method, f"{members:,}", f"{coverage:.1%}" if inside else f"[yellow]{coverage:.1%}[/]",
                      f"{low:.1%}-{high:.1%}")
    console.print(table)


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
        f"  SQL prompt       curl 'http://127.0.0.1:%d/?query=SELECT+count()+FROM+{relation('stg_orders')}'" % conn.port
    )
    if not all(a.balanced for a in accounts):
        raise CommandError("some raw rows are neither staged nor rejected (see the table above)")
