"""`tags audience`: tags combined with and / or / not, sized, compared and exported."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from orchestration.relations import relation
from orchestration.audiences import audiences
from orchestration.catalog import catalog
from orchestration.cli.common import (App, CommandError, Expression, FileFormat, Format, Json, KNOWN_ERRORS, console,
                                      print_json, show)
from orchestration.warehouse import db

app = App(help="Audiences: tags combined with and / or / not, sized, compared and exported.", no_args_is_help=True)


@app.command("list")
def audience_list(as_json: Json = False) -> None:
    """Every audience of seeds/audiences.csv: live ones with their size, expired ones with their last day."""
    result = db.client().query(
        "SELECT audience_key, channel, priority, status, member_count, expires_on, last_built_as_of, expression "
        f"FROM {relation('audience_catalog')} ORDER BY status DESC, priority")
    table = Table(title=f"Audiences ({relation('audience_catalog')}; expressions in seeds/audiences.csv)")
    for column in ("audience", "channel", "prio", "status", "members", "expires on", "last built"):
        table.add_column(column, justify="right" if column in ("prio", "members") else "left", no_wrap=True)
    for key, channel, priority, status, members, expires_on, last_built, _ in result.result_rows:
        table.add_row(key, channel, str(priority), status if status == "live" else f"[yellow]{status}[/]",
                      f"{members:,}" if status == "live" else "-", str(expires_on), str(last_built or "never"))
    show(table, result.column_names, result.result_rows, as_json)


@app.command("size")
def audience_size(expression: Expression, as_json: Json = False) -> None:
    """How many customers of the published tags match an expression (from the tag bitmaps)."""
    client, rows = db.client(), catalog.load()
    started = time.perf_counter()
    customers = audiences.size(client, expression, rows)
    elapsed_ms = (time.perf_counter() - started) * 1000
    everyone = audiences.customer_count(client)
    if as_json:
        print_json({"expression": expression, "customers": customers, "all_customers": everyone,
                    "share": customers / everyone if everyone else None, "milliseconds": round(elapsed_ms, 1)})
        return
    share = f", {customers / everyone:.1%} of {everyone:,}" if everyone else ""
    console.print(f"{customers:,} customers{share} ({elapsed_ms:.0f} ms)")


@app.command("preview")
def audience_preview(
    expression: Expression,
    limit: Annotated[int, typer.Option(help="Customers to show.")] = 20,
    as_json: Json = False,
) -> None:
    """The first matching customers with the tags the expression uses (from tags.customer_profile)."""
    columns, rows = audiences.preview(db.client(), expression, catalog.load(), limit)
    table = Table(title=f"First {limit} customers matching: {expression}")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(value) for value in row))
    show(table, list(columns), rows, as_json)


@app.command("overlap")
def audience_overlap(
    keys: Annotated[list[str] | None, typer.Argument(help="Audience keys (default every live audience).")] = None,
    as_json: Json = False,
) -> None:
    """Customers shared by every pair of audiences (bitmap AND cardinalities); the report has the heatmap."""
    result = audiences.overlap(db.client(), keys)
    table = Table(title="Customers in both audiences (row and column)")
    table.add_column("audience")
    for key in result.keys:
        table.add_column(key, justify="right")
    for a in result.keys:
        table.add_row(a, *(f"{result.shared[(a, b)]:,}" for b in result.keys))
    show(table, ["audience", *result.keys], [(a, *(result.shared[(a, b)] for b in result.keys)) for a in result.keys],
         as_json)


@app.command("breakdown")
def audience_breakdown(
    audience_key: Annotated[str, typer.Argument(help="A live audience.")],
    by: Annotated[str, typer.Option(help="A label or labels tag, e.g. rfm_segment, country or interest.")] = "rfm_segment",
    as_json: Json = False,
) -> None:
    """An audience's members per value of a label or labels tag (a member counts under each of its values)."""
    parts = audiences.breakdown(db.client(), audience_key, by, catalog.load())
    total = sum(n for _, n in parts) or 1
    table = Table(title=f"{audience_key} by {by}")
    for column in (by, "customers", "share"):
        table.add_column(column, justify="left" if column == by else "right")
    for value, customers in parts:
        table.add_row(value, f"{customers:,}", f"{customers / total:.1%}")
    show(table, [by, "customers", "share"], [(value, n, n / total) for value, n in parts], as_json)


@app.command("export")
def audience_export(
    audience_key: Annotated[str, typer.Argument(help="A live audience of seeds/audiences.csv.")],
    out: Annotated[Path, typer.Option(help="File to write (replaced only once complete).")],
    fmt: Format = FileFormat.csv,
    holdout: Annotated[str, typer.Option(help="Share held out as a control group, e.g. 10%.")] = "0%",
    seed: Annotated[str, typer.Option(help="Holdout seed: the same seed holds out the same customers.")] = "holdout",
    exclusive: Annotated[bool, typer.Option(
        help="Leave out customers in a live audience of higher priority (each customer goes to one audience).")] = False,
) -> None:
    """Write the audience's customers whose latest consent for its channel is granted, with the channel's contact field."""
    from orchestration.audiences import exports

    try:
        share = exports.parse_share(holdout)
        done = exports.export_audience(db.client(), audience_key, fmt.value, out, share, seed, exclusive)
    except KNOWN_ERRORS as exc:  # whatever stopped it, no file was written
        raise CommandError(f"nothing was exported: {exc}") from exc
    console.print(f"{done.exported:,} of {done.members:,} members of {audience_key} (as of {done.as_of}) written to "
                  f"{done.file} for {done.channel}")
    for reason, count in (("in a higher-priority audience", done.left_out_priority), ("held out", done.held_out),
                          ("no granted consent", done.left_out_no_consent), ("no contact", done.left_out_no_contact)):
        console.print(f"  left out, {reason}: {count:,}")
    console.print(f"  recorded in audiences.export_log as {done.export_id}")


@app.command("release-holdout")
def audience_release_holdout(
    audience_key: Annotated[str, typer.Argument(help="The audience whose held-out customers are released.")],
    reason: Annotated[str, typer.Option(help="Why, kept with the release.")] = "",
) -> None:
    """Release every customer held out of an audience (its control group): the next export includes them again.
    The released rows move to audiences.holdout_releases with who, when and why."""
    from orchestration.audiences import exports

    released = exports.release_holdout(db.client(), audience_key, reason=reason)
    console.print(f"released {released:,} customer(s) held out of {audience_key}; the next export includes them again "
                  "(recorded in audiences.holdout_releases)", soft_wrap=True)


@app.command("impact")
def audience_impact(
    audience_key: Annotated[str, typer.Argument(help="An audience exported with a holdout.")],
    export_id: Annotated[str | None, typer.Option("--export", help="Which export (default the latest with a holdout).")] = None,
    window_days: Annotated[int, typer.Option(help="Days after the export whose orders count.")] = 30,
    as_json: Json = False,
) -> None:
    """Campaign impact of an export: conversion and revenue per customer in the window after it, treated against
    holdout, with the lift and its 95% interval, overall and per RFM segment, member tier and country."""
    from orchestration.audiences import impact

    found = impact.measure(db.client(), audience_key, export_id, window_days)
    if as_json:
        print_json(dataclasses.asdict(found))
        return
    window = (f"{found.window_days} days after {found.exported_at} (UTC)"
              + (f": [yellow]partial[/], {found.days_covered:.1f} days of orders so far (data through "
                 f"{found.counted_until})" if found.partial else ""))
    console.print(f"Impact of export {found.export_id} of {audience_key} (run as of {found.as_of}); window {window}",
                  soft_wrap=True)
    table = Table(title="Treated against holdout (intention to treat); lift [95% interval]")
    columns = ("segment", "treated", "holdout", "conversion T / H", "conversion lift", "revenue per customer T / H",
               "revenue lift")
    for column in columns:
        table.add_column(column, justify="left" if column == "segment" else "right")
    for c in [found.overall, *found.segments]:
        name = "all" if c.dimension == "all" else f"{c.dimension} = {c.segment}" + (" [yellow](small)[/]" if c.small else "")
        table.add_row(name, f"{c.treated:,}", f"{c.held_out:,}",
                      f"{c.conversion.treated:.1%} / {c.conversion.held_out:.1%}", impact.describe(c.conversion, "pp"),
                      f"{c.revenue_per_customer.treated:,.2f} / {c.revenue_per_customer.held_out:,.2f}",
                      impact.describe(c.revenue_per_customer, ""))
    console.print(table)
