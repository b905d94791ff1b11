"""Where every raw row went: staging or rejects, per contract table."""

from __future__ import annotations

from dataclasses import dataclass

from orchestration.warehouse import contract


@dataclass(frozen=True)
class TableAccount:
    table: str
    raw: int
    staged: int
    rejected: int
    reasons: dict[str, int]

    @property
    def balanced(self) -> bool:
        return self.raw == self.staged + self.rejected


def accounts(client) -> list[TableAccount]:
    result = []
    visible = contract.visible_rows(client)  # not the rows of a load that died half-way: staging skips them too
    for table in contract.raw_tables():
        raw = int(client.command(f"SELECT count() FROM raw.{table} {visible}"))
        staged = int(client.command(f"SELECT count() FROM staging.stg_{table}"))
        reasons = dict(client.query(
            f"SELECT reject_reason, count() FROM staging.stg_{table}_rejects GROUP BY reject_reason ORDER BY count() DESC"
        ).result_rows)
        result.append(TableAccount(table, raw, staged, sum(reasons.values()), reasons))
    return result
