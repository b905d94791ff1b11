"""`tags --help` and every command's start load the command line, not the libraries its commands use.

The heavy ones load where they are used (the ClickHouse driver with the first client, pyarrow with a Parquet
file, sqlglot with a rule to check, numpy with a model tag, Dagster with a run): together about 0.7 s that
every command paid at start before (BENCHMARKS.md, `tags --help`).
"""

import subprocess
import sys

import pytest

HEAVY = ("clickhouse_connect", "pyarrow", "sqlglot", "numpy", "sqlalchemy", "dagster", "dbt", "great_expectations")


def _loaded_after(code: str) -> set[str]:
    listing = subprocess.run([sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
                             capture_output=True, text=True, check=True).stdout.split()
    return {name.split(".")[0] for name in listing}


def test_the_command_line_starts_without_its_commands_libraries():
    loaded = _loaded_after("import orchestration.cli")
    assert "typer" in loaded  # the import did happen
    assert sorted(loaded.intersection(HEAVY)) == []


def test_help_prints_every_command_group():
    shown = subprocess.run([sys.executable, "-c", "from orchestration.cli import app; app()", "--help"],
                           capture_output=True, text=True).stdout
    for group in ("refresh", "warehouse", "catalog", "audience", "quality", "console"):
        assert group in shown, shown


@pytest.mark.parametrize("code, library", [
    ("from orchestration.warehouse import db\ntry:\n    db.client()\nexcept Exception:\n    pass", "clickhouse_connect"),
    ("from orchestration.catalog import validation, catalog\nassert validation.validate(catalog.load()) == []", "sqlglot"),
])
def test_a_command_that_needs_a_library_still_gets_it(code, library):
    assert library in _loaded_after(code)
