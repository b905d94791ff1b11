"""Where every raw row went: staging or rejects, per contract table (the dbt model staging.row_accounting)."""

from __future__ import annotations

from dataclasses import dataclass

from orchestration.relations import relation
from orchestration.warehouse import db


@dataclass(frozen=True)
class TableAccount:
    table: str
    raw: int
    staged: int
    rejected: int
    reasons: dict[str, int]  # rejected rows per reason, most frequent first
    balanced: bool  # raw = staged + rejected, as the model (and its dbt test) says


def accounts(client) -> list[TableAccount]:
    """One account per raw table in the contract's order, read from the model (built by `dbt build`)."""
    db.require_tables(client, relation('row_accounting'))
    return [TableAccount(table, int(raw), int(staged), int(rejected),
                         dict(sorted(reasons.items(), key=lambda item: (-item[1], item[0]))), bool(balanced))
            for table, raw, staged, rejected, reasons, balanced in client.query(
                "SELECT raw_table, raw_rows, staged_rows, rejected_rows, reject_reasons, balanced "
                f"FROM {relation('row_accounting')} ORDER BY position").result_rows]
