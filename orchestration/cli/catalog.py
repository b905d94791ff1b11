"""`tags catalog`: validate the tag catalog and sync the dbt files generated from it."""

from __future__ import annotations

from typing import Annotated

import typer

from orchestration.audiences import audiences
from orchestration.catalog import catalog_sync
from orchestration.cli.common import App, CommandError, console, valid_catalog

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
