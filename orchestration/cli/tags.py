"""`tags tag`: hand-picked (manual) tags, and the change feed of every tag."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from orchestration.catalog import manual_tags
from orchestration.cli.common import App, Change, FileFormat, Format, as_of as parse_as_of, console, valid_catalog
from orchestration.warehouse import db, refresh_lock

app = App(help="Hand-picked (manual) tags.", no_args_is_help=True)


@app.command("add")
def tag_add(
    tag_key: Annotated[str, typer.Argument(help="A manual tag of the catalog.")],
    customer_ids: Annotated[list[str], typer.Argument(help="Customer ids.")],
) -> None:
    """Give customers a manual tag (appended to raw.manual_tag_assignments; published by the next refresh)."""
    _assign("add", tag_key, customer_ids)


@app.command("remove")
def tag_remove(
    tag_key: Annotated[str, typer.Argument(help="A manual tag of the catalog.")],
    customer_ids: Annotated[list[str], typer.Argument(help="Customer ids.")],
) -> None:
    """Take a manual tag away from customers (the latest add or remove wins)."""
    _assign("remove", tag_key, customer_ids)


def _assign(action: str, tag_key: str, customer_ids: list[str]) -> None:
    rows = valid_catalog()
    # a refresh counts raw rows at its start and its end: a row appended between breaks its accounting
    with refresh_lock.held(f"tags tag {action} {tag_key}"):
        written = manual_tags.assign(db.client(), rows, action, tag_key, customer_ids)
    console.print(f"{action}: {tag_key} for {written} customer(s); `tags refresh` publishes it")


@app.command("changes")
def tag_changes(
    out: Annotated[Path, typer.Option(help="File to write (replaced only once complete).")],
    fmt: Format = FileFormat.csv,
    as_of: Annotated[str, typer.Option("--as-of", help="Published as_of (default the latest).")] = "",
    tag: Annotated[str | None, typer.Option(help="Only this tag.")] = None,
    change: Annotated[Change | None, typer.Option(help="Only this kind of change.")] = None,
) -> None:
    """Export the tag change feed (tags.tag_changes): who gained, lost or changed a tag, for triggers."""
    from orchestration.audiences import exports

    day = parse_as_of(as_of) if as_of else None  # a bad date is named before the warehouse is asked anything
    written = exports.export_tag_changes(db.client(), fmt.value, out, day, tag, change.value if change else None)
    console.print(f"{written:,} tag changes written to {out}")
