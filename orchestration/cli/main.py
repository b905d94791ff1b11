"""The `tags` command line: one Typer app, a sub-app per concern (each module of this package), one error handler."""

from __future__ import annotations

from orchestration.cli import audience, bi, catalog, console, data, quality, refresh, tags, warehouse
from orchestration.cli.common import App

app = App(help="Customer tags on ClickHouse: dbt models, refreshed and checked nightly.", no_args_is_help=True)
app.command("demo")(data.demo_command)
app.command("load")(data.load_command)
app.command("refresh")(refresh.refresh_command)
app.command("ui")(refresh.ui_command)
app.command("docs")(data.docs_command)
app.add_typer(warehouse.app, name="warehouse")
app.add_typer(catalog.app, name="catalog")
app.add_typer(tags.app, name="tag")
app.add_typer(audience.app, name="audience")
app.add_typer(bi.app, name="bi")
app.add_typer(quality.app, name="quality")
app.add_typer(console.app, name="console")

if __name__ == "__main__":
    app()
