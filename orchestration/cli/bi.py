"""`tags bi`: the read-only BI user."""

from __future__ import annotations

from typing import Annotated

import typer

from orchestration import settings
from orchestration.cli.common import App, CommandError, console
from orchestration.warehouse import bi_access, db

app = App(help="The read-only BI user (bi_reader): what it may read, on the embedded and the prod target.",
          no_args_is_help=True)


@app.command("grants")
def bi_grants(apply: Annotated[bool, typer.Option(help="Run the statements on the active target (prod only).")] = False
              ) -> None:
    """The SQL that creates the read-only BI user, its limits and quota on a ClickHouse server (the prod
    target), from TAGS_BI_PASSWORD and the TAGS_BI_* limits."""
    secret = bi_access.password()
    if not secret:
        raise CommandError(f"set {bi_access.PASSWORD_VARIABLE} to the BI user's password first")
    statements = bi_access.prod_statements(secret)
    if not apply:
        for statement in statements:
            console.print(f"{statement};", soft_wrap=True, markup=False)
        return
    if settings.dbt_target() in settings.EMBEDDED_TARGETS:
        raise CommandError(f"the embedded server defines {bi_access.BI_USER} in its users.xml: restart it with "
                           f"{bi_access.PASSWORD_VARIABLE} set (`tags warehouse stop && tags warehouse start`)")
    client = db.client()
    for statement in statements:
        client.command(statement)
    console.print(f"{bi_access.BI_USER} can read {', '.join(bi_access.BI_DATABASES)} on {settings.connection().describe()}")
