"""README documents the contract as it is written in models/staging/_sources.yml."""

from orchestration.settings import PROJECT_DIR
from orchestration.warehouse import contract


def test_readme_lists_every_contract_column_with_its_type():
    readme = (PROJECT_DIR / "README.md").read_text()
    for table in contract.raw_tables().values():
        assert f"**raw.{table.name}**" in readme
        for column in table.required:
            assert f"| {column.name} | `{column.type}` |" in readme, (table.name, column.name)


def test_readme_names_the_two_commands():
    readme = (PROJECT_DIR / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
