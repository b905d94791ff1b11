"""`tags warehouse`: the embedded ClickHouse server on loopback."""

from __future__ import annotations

import typer

from orchestration import settings
from orchestration.cli.common import App, console
from orchestration.warehouse import bi_access, warehouse

app = App(help="The embedded ClickHouse server on loopback.", no_args_is_help=True)


@app.command("start")
def warehouse_start() -> None:
    """Start the embedded server (data in WAREHOUSE_DIR, ports WAREHOUSE_HTTP_PORT / WAREHOUSE_TCP_PORT)."""
    state = warehouse.start(settings.warehouse_dir(), settings.http_port(), settings.tcp_port())
    console.print(state.describe(settings.warehouse_dir()))
    console.print(f"pipeline user default: password {settings.warehouse_password_source()}", soft_wrap=True)
    console.print(f"BI user {bi_access.BI_USER}: " + (
        f"read-only on {', '.join(bi_access.BI_DATABASES)} (password from {bi_access.PASSWORD_VARIABLE}); "
        f"{bi_access.describe_limits()}"
        if bi_access.password() else f"not created; set {bi_access.PASSWORD_VARIABLE} before starting the warehouse"),
        soft_wrap=True)


@app.command("stop")
def warehouse_stop() -> None:
    """Stop the embedded server, letting running queries finish."""
    stopped = warehouse.stop(settings.warehouse_dir())
    console.print("warehouse stopped" if stopped else "warehouse was not running")


@app.command("status")
def warehouse_status() -> None:
    """Say whether the embedded server runs and answers /ping; exit 1 if not."""
    state = warehouse.status(settings.warehouse_dir())
    console.print(state.describe(settings.warehouse_dir()))
    if not state.healthy:
        raise typer.Exit(1)
