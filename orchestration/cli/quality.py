"""`tags quality`: the HTML report, and the human review of a sample."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from orchestration.catalog import catalog
from orchestration.cli.common import App, Json, console, show
from orchestration.warehouse import db

app = App(help="Tag quality: the report, and the human review of a sample.", no_args_is_help=True)


@app.command("report")
def quality_report_command() -> None:
    """Write the HTML quality report of the latest published run (reports/quality/index.html)."""
    from orchestration.quality import report

    path = report.write(db.client(), catalog.load())
    console.print(f"quality report: {path}")


@app.command("review-sample")
def quality_review_sample(
    out: Annotated[Path, typer.Option(help="CSV sheet to write.")] = Path("reports/quality/review_sample.csv"),
    customers: Annotated[int, typer.Option(help="Customers of the accuracy sample to review.")] = 50,
) -> None:
    """Write a sheet of sampled customers' tags with their evidence, for a person to mark correct or wrong."""
    from orchestration.quality import review

    written = review.write_sample(db.client(), out, customers)
    console.print(f"{written} tag rows to review in {out}: fill the verdict column with correct or wrong")


@app.command("review-import")
def quality_review_import(sheet: Annotated[Path, typer.Argument(help="The reviewed CSV sheet.")],
                          as_json: Json = False) -> None:
    """Read a reviewed sheet back: human accuracy per tag (healthy over 95%, risk under 85%)."""
    from orchestration.quality import review

    accuracies = review.import_verdicts(db.client(), sheet)
    table = Table(title=f"Human accuracy from {sheet.name}")
    for column in ("tag", "correct", "wrong", "accuracy", "status"):
        table.add_column(column)
    for a in accuracies:
        table.add_row(a.tag_key, str(a.correct), str(a.wrong), f"{a.accuracy:.1%}", a.status)
    show(table, ["tag", "correct", "wrong", "accuracy", "status"],
         [(a.tag_key, a.correct, a.wrong, a.accuracy, a.status) for a in accuracies], as_json)
