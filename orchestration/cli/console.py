"""`tags console`: the tag console's HTTP service, and its users."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.table import Table

from orchestration.cli.common import App, console
from orchestration.warehouse import db

app = App(help="The tag console's HTTP API (`tags console serve`) and its users.", no_args_is_help=True)
users_app = App(help="Console users: a name, a role (viewer, editor, admin) and a token.", no_args_is_help=True)
app.add_typer(users_app, name="user")

Name = Annotated[str, typer.Argument(help="The user's name, e.g. ana.")]


@app.command("serve")
def console_serve(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback unless you put TLS in front of it).")] =
    "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="Port.")] = 8700,
) -> None:
    """Serve the API on http://HOST:PORT/api (OpenAPI at /openapi.json); Ctrl-C stops it."""
    import uvicorn

    from orchestration.console import api

    from orchestration.console import accounts

    accounts.ensure_table(db.client())  # an unreachable warehouse is named now; no users yet answers 401, not 500
    console.print(f"tag console API on http://{host}:{port}/api, OpenAPI at http://{host}:{port}/openapi.json "
                  "(Ctrl-C stops it)")
    uvicorn.run(api.create_app(), host=host, port=port, log_level="warning")


@users_app.command("add")
def user_add(
    name: Name,
    role: Annotated[str, typer.Option(help="viewer (reads), editor (also manual tags, contact data) or admin.")] =
    "viewer",
) -> None:
    """Create a user and print its token (shown once; the warehouse keeps only its hash)."""
    from orchestration.console import accounts

    token = accounts.add(db.client(), name, role, getpass.getuser())
    console.print(f"user {name} ({role}) created; token (shown once, keep it): ", end="")
    print(token)


@users_app.command("token")
def user_token(name: Name) -> None:
    """Give a user a new token; the old one stops working at once."""
    from orchestration.console import accounts

    token = accounts.new_token(db.client(), name, getpass.getuser())
    console.print(f"new token for {name} (shown once): ", end="")
    print(token)


@users_app.command("remove")
def user_remove(name: Name) -> None:
    """Remove a user; its token stops working at once."""
    from orchestration.console import accounts

    accounts.remove(db.client(), name, getpass.getuser())
    console.print(f"user {name} removed")


@users_app.command("list")
def user_list() -> None:
    """The console's users and their roles."""
    from orchestration.console import accounts

    table = Table("user", "role")
    for name, role in accounts.users(db.client()):
        table.add_row(name, role)
    console.print(table)

