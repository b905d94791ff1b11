"""`tags catalog`: validate the tag catalog, sync the dbt files generated from it, archive and merge tags."""

from __future__ import annotations

import getpass
import uuid
from typing import Annotated

import typer
from rich.table import Table

from orchestration.audiences import audiences
from orchestration.catalog import catalog_edits, catalog_sync
from orchestration.cli.common import App, AsOf, CommandError, as_of as parse_as_of, console, valid_catalog

app = App(help="The tag catalog (seeds/tag_catalog.csv).", no_args_is_help=True)


@app.command("validate")
def catalog_validate() -> None:
    """Check every catalog row (keys, names, methods, rules over customer_features, params) and every audience."""
    rows = valid_catalog()
    console.print(f"tag catalog is valid: {len(rows)} tags, {sum(r.status == 'active' for r in rows)} active; "
                  f"{len(audiences.load())} audiences are valid")


@app.command("sync")
def catalog_sync_command(check: Annotated[bool, typer.Option(help="Only report differences; exit 1 if any.")] = False) -> None:
    """Write one dbt model stub per catalog tag (models/tags/generated/), with YAML from the catalog."""
    rows = valid_catalog()
    changes = catalog_sync.differences(rows) if check else catalog_sync.sync(rows)
    for change in changes:
        console.print(f"  {change}")
    if check and changes:
        raise CommandError("tag model stubs disagree with the catalog: run `tags catalog sync`")
    console.print("tag models agree with the catalog" if not changes else f"{len(changes)} file(s) synced")


By = Annotated[str, typer.Option("--by", help="Who makes the change, for updated_by and the change log (default: you).")]


@app.command("archive")
def catalog_archive(tag_key: Annotated[str, typer.Argument(help="The tag to archive.")], by: By = "") -> None:
    """Archive a tag (a zombie of the hygiene report): the next refresh no longer builds it. Refused while an
    audience of seeds/audiences.csv names it."""
    from orchestration.warehouse import refresh_lock

    valid_catalog()
    with refresh_lock.held(f"tags catalog archive {tag_key}"):  # a refresh reads the catalog as a dbt seed
        row = catalog_edits.archive(tag_key, by or getpass.getuser())
    console.print(f"{row.tag_key} archived (catalog line {row.row_number}, by {row.updated_by} on {row.updated_at}); "
                  "the next `tags refresh` no longer builds it")


@app.command("merge")
def catalog_merge(tag_key: Annotated[str, typer.Argument(help="The tag folded in, then archived.")],
                  into: Annotated[str, typer.Argument(help="The active tag of the same value_type that stays.")],
                  by: By = "") -> None:
    """Fold one tag into another of the same value_type: the first is archived, its description pointing to the
    second. Refused while an audience names the first (its owner rewrites it)."""
    from orchestration.warehouse import refresh_lock

    valid_catalog()
    with refresh_lock.held(f"tags catalog merge {tag_key} {into}"):
        row = catalog_edits.merge(tag_key, into, by or getpass.getuser())
    console.print(f"{row.tag_key} merged into {into} and archived (catalog line {row.row_number}, by {row.updated_by} "
                  f"on {row.updated_at}); the next `tags refresh` no longer builds it")


@app.command("calibrate")
def catalog_calibrate(
    as_of: AsOf = "",
    margin: Annotated[float, typer.Option(help="The range proposed: observed coverage give or take this share of it.")] = 0.5,
    write: Annotated[bool, typer.Option("--write", help="Write the proposed ranges into seeds/tag_catalog.csv.")] = False,
) -> None:
    """Build the tags on the loaded data without publishing, and propose each tag's expected coverage range from what
    it observed, as a diff of seeds/tag_catalog.csv (written with --write)."""
    from orchestration.catalog import calibrate, catalog
    from orchestration.dagster import dbt_runner, refresh
    from orchestration.models import model_tags
    from orchestration.warehouse import db, refresh_lock

    calibrate.proposed_range(0.5, margin)  # a bad --margin is named before anything is built
    day, rows = parse_as_of(as_of), valid_catalog()
    client = db.connect(on_retry=console.print)
    with refresh_lock.held("tags catalog calibrate"):
        refresh.prepare(rows, day)
        console.print(f"building staging, features and every tag as of {day} (nothing is published; dbt output follows)")
        # as the night does: the model tags after the model step, which trains on the staging just built
        run_id, specs = f"calibrate-{uuid.uuid4()}", model_tags.model_specs()
        models = [catalog_sync.model_name(spec.tag_key) for spec in specs]
        model_tags.create_tables(client)
        dbt_runner.run(" ".join(["build", *(["--exclude", *models] if models else [])]), day, select=["+tag:tag"],
                       run_id=run_id)
        if specs:
            model_tags.run(client, day, run_id, specs)
            dbt_runner.run("build", day, select=models, run_id=run_id)
        proposals = calibrate.propose(rows, calibrate.observe(client, rows), margin)
    table = Table(title=f"Coverage as of {day} against the catalog's ranges (proposed: observed ± {margin:.0%} of it)")
    for column in ("tag", "members", "coverage", "catalog range", "passes", "proposed"):
        table.add_column(column, justify="right" if column in ("members", "coverage") else "left")
    percent = (lambda v: "-" if v is None else f"{100 * v:g} %")
    for p in proposals:
        table.add_row(p.tag_key, f"{p.members:,}", f"{100 * p.coverage:.2f} %",
                      f"{percent(p.current[0])} to {percent(p.current[1])}",
                      "yes" if p.current_passes else "[red]no[/]", f"{percent(p.proposed[0])} to {percent(p.proposed[1])}")
    console.print(table)
    before = catalog.CATALOG_FILE.read_text()
    after = calibrate.rewritten(before, proposals)
    if after == before:
        console.print("the catalog's ranges are already the proposed ones")
        return
    console.print(calibrate.diff(before, after), markup=False, highlight=False, soft_wrap=True)
    failing = sum(not p.current_passes for p in proposals)
    if write:
        staged = catalog.CATALOG_FILE.with_suffix(".csv.calibrating")
        staged.write_text(after)
        staged.replace(catalog.CATALOG_FILE)  # whole or not at all
        console.print(f"written to {catalog.CATALOG_FILE} ({failing} tag(s) whose range the data failed); review it "
                      "with `git diff`, then `tags refresh`")
    else:
        console.print(f"{failing} tag(s) fail their range on this data; nothing written: `tags catalog calibrate --write` "
                      "writes the diff above")

