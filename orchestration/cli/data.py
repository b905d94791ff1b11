"""`tags demo`, `tags load` and `tags docs`: data into raw, and the dbt docs site."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from orchestration import settings
from orchestration.cli.common import KNOWN_ERRORS, AsOf, CommandError, as_of as parse_as_of, console, quiet_driver_logs
from orchestration.dagster import dbt_runner
from orchestration.warehouse import db, demo, loader, refresh_lock


def demo_command(
    customers: Annotated[int, typer.Option(help="Number of customers to generate.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed and as_of give the same rows.")] = 42,
    as_of: AsOf = "",
    next_day: Annotated[bool, typer.Option(
        "--next-day", help="Append one more day of orders and events dated --as-of to the demo data instead of "
                           "replacing it (about 0.3% of the rows: what a nightly incremental run sees).")] = False,
    campaign: Annotated[bool, typer.Option(
        "--campaign", help=f"Plant a campaign with a known effect on the published night instead: export "
                           f"{demo.CAMPAIGN_AUDIENCE} with a {demo.CAMPAIGN_HOLDOUT:.0%} holdout as sent the next morning and "
                           f"append its members' orders of the {demo.CAMPAIGN_WINDOW_DAYS} days after, the treated "
                           f"converting {demo.CAMPAIGN_LIFT * 100:.0f} points more (then refresh as of the window's end "
                           "and run `tags audience impact`).")] = False,
) -> None:
    """Replace the raw tables with generated demo data (SQL inside ClickHouse)."""
    if campaign:
        with refresh_lock.held("tags demo --campaign"):
            export = demo.plant_campaign(db.client(), seed)
        console.print(f"campaign planted: export {export.export_id} of {export.audience_key} (as of {export.as_of}), "
                      f"{export.held_out:,} of {export.members:,} members held out; their orders of the "
                      f"{demo.CAMPAIGN_WINDOW_DAYS} days after are in raw.orders. Next: tags refresh --as-of "
                      f"{export.as_of + dt.timedelta(days=demo.CAMPAIGN_WINDOW_DAYS + 1)}, then tags audience impact "
                      f"{export.audience_key}", soft_wrap=True)
        return
    day = parse_as_of(as_of)
    started = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("generating", total=None)

        def step(label: str, done: int, total: int, seconds: float) -> None:
            progress.update(task, completed=done, total=total, description=label)
            progress.console.print(f"  {label:<48} {seconds:6.2f} s")

        with refresh_lock.held("tags demo"):  # replacing raw under a running refresh would break its accounting
            if next_day:
                counts = demo.append_day(db.client(), seed, day, progress=step)
            else:
                counts = demo.generate(db.client(), customers, seed, day, progress=step)
    done = f"one more day ({day}) appended" if next_day else f"demo data for {customers:,} customers"
    console.print(f"{done} (seed {seed}, as of {day}) in {time.perf_counter() - started:.1f} s")
    for table, rows in counts.items():
        console.print(f"  raw.{table:<24} {rows:>12,} rows")


def load_command(
    directory: Annotated[Path, typer.Argument(help="Folder of <table>.parquet / <table>.csv files.")],
    again: Annotated[bool, typer.Option(
        "--again", help="Load files whose content was loaded before all the same (their rows are appended once more).")] = False,
) -> None:
    """Append Parquet or CSV files named after the contract tables into raw, all or nothing (also when a process
    dies: the next load cleans up); under the warehouse's refresh lock."""
    quiet_driver_logs()
    try:
        appended = loader.load(db.connect(on_retry=console.print), directory,
                               progress=lambda message: console.print(f"  {message}", markup=False), again=again)
    except loader.AlreadyLoaded as exc:  # not an error: the folder was loaded before, and --again says how
        console.print(str(exc), soft_wrap=True, markup=False)
        return
    except KNOWN_ERRORS as exc:  # whatever stopped it, the load left nothing behind
        raise CommandError(f"nothing was loaded: {exc}") from exc
    console.print(f"loaded {sum(appended.values()):,} rows into {len(appended)} raw table(s)")


def docs_command(
    serve: Annotated[bool, typer.Option(help="Serve the site after generating it.")] = True,
    port: Annotated[int, typer.Option(help="Port of the docs site.")] = 8080,
) -> None:
    """Generate dbt docs (models, columns, lineage, exposures for audiences and the BI door) and serve them."""
    dbt_runner.run("docs generate", settings.parse_as_of(None))
    console.print(f"dbt docs written to {settings.PROJECT_DIR / 'target' / 'index.html'}")
    if serve:
        console.print(f"serving on http://127.0.0.1:{port} (Ctrl-C stops)")
        dbt_runner.serve_docs(port)
