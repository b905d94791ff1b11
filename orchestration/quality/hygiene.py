"""Catalog hygiene, measured each run against the seeds' bands and kept as history (quality.hygiene).

- total active tags: healthy 15-35, risk over 50 (between: warning);
- usage rate: share of active tags queried in the last 90 days (ClickHouse's query log: SELECTs
  on the `tags` database naming the tag, as a value or a profile column); healthy over 80%, risk
  under 60%. Audiences (a later issue) will count as use too;
- zombie tags: active tags unused for 90 days (counted from their first publication when never
  used): archive suggested over 50 members, deletion under 10 members and 180 days unused;
- merge suggestions: pairs of flag tags whose members overlap 85% or more (Jaccard over bitmaps);
- naming violations: tag names breaking the naming rules (the catalog validator's own checks).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from orchestration.relations import relation
from orchestration.catalog import catalog, validation
from orchestration.warehouse import db

USAGE_DAYS = 90
ZOMBIE_DAYS, DELETE_DAYS = 90, 180
ARCHIVE_MEMBERS, DELETE_MEMBERS = 50, 10
MERGE_JACCARD = 0.85


def total_tags_status(total: int) -> str:
    if 15 <= total <= 35:
        return "healthy"
    return "risk" if total > 50 else "warning"


def usage_status(rate: float) -> str:
    if rate > 0.8:
        return "healthy"
    return "risk" if rate < 0.6 else "warning"


def zombie_suggestion(members: int, days_unused: int) -> str:
    if members > ARCHIVE_MEMBERS:
        return "archive"
    if members < DELETE_MEMBERS and days_unused >= DELETE_DAYS:
        return "delete"
    return "review"


@dataclass(frozen=True)
class Hygiene:
    total_active: int
    usage_rate: float
    used: list[str]
    zombies: list[tuple[str, int, int, str]]  # tag_key, members, days unused, suggestion
    merge_pairs: list[tuple[str, str, float]]
    naming_violations: list[str]
    overlap: dict[tuple[str, str], float] = field(default_factory=dict)  # every flag pair, for the heatmap

    def figures(self) -> list[tuple[str, float, str, str]]:
        """(figure, value, status, detail) rows as kept in quality.hygiene."""
        return [
            ("total_active_tags", self.total_active, total_tags_status(self.total_active), "healthy 15-35, risk over 50"),
            ("usage_rate", round(self.usage_rate, 4), usage_status(self.usage_rate), ", ".join(self.used)),
            ("zombie_tags", len(self.zombies), "healthy" if not self.zombies else "warning",
             "; ".join(f"{k} ({m} members, {d} days unused): {s}" for k, m, d, s in self.zombies)),
            ("merge_suggestions", len(self.merge_pairs), "healthy" if not self.merge_pairs else "warning",
             "; ".join(f"{a} + {b} ({j:.0%})" for a, b, j in self.merge_pairs)),
            ("naming_violations", len(self.naming_violations), "healthy" if not self.naming_violations else "risk",
             "; ".join(self.naming_violations)),
        ]


def measure(client, rows: list[catalog.CatalogRow], as_of: dt.date) -> Hygiene:
    active = [r for r in rows if r.is_active]
    keys = [r.tag_key for r in active]
    last_used = dict(client.query(
        "SELECT tag_key, toDate(max(event_time)) FROM system.query_log ARRAY JOIN %(keys)s AS tag_key "
        "WHERE type = 'QueryFinish' AND query_kind = 'Select' AND has(databases, 'tags') "
        "AND event_date >= %(since)s AND match(query, concat('\\\\b', tag_key, '\\\\b')) GROUP BY tag_key",
        parameters={"keys": keys or [""], "since": as_of - dt.timedelta(days=max(DELETE_DAYS, USAGE_DAYS))}).result_rows)
    catalog_now = {k: (m, first) for k, m, first in client.query(
        f"SELECT tag_key, member_count, first_built_on FROM {relation('published_tag_catalog')}").result_rows}
    used = sorted(k for k in keys if k in last_used and (as_of - last_used[k]).days <= USAGE_DAYS)
    zombies = []
    for key in keys:
        members, first_built = catalog_now.get(key, (0, as_of))
        since = max(last_used.get(key, first_built), first_built)
        if (as_of - since).days >= ZOMBIE_DAYS:
            days = (as_of - since).days
            zombies.append((key, members, days, zombie_suggestion(members, days)))
    flags = [r.tag_key for r in active if r.value_type == "flag"]
    overlap = {(a, b): j for a, b, j in client.query(
        f"WITH per_tag AS (SELECT tag_key, groupBitmapMergeState(members) AS m FROM {relation('tag_bitmaps')} "
        "                 WHERE tag_key IN %(flags)s GROUP BY tag_key) "
        "SELECT a.tag_key, b.tag_key, if(bitmapOrCardinality(a.m, b.m) = 0, 0, "
        "       bitmapAndCardinality(a.m, b.m) / bitmapOrCardinality(a.m, b.m)) "
        "FROM per_tag AS a CROSS JOIN per_tag AS b WHERE a.tag_key < b.tag_key",
        parameters={"flags": flags or [""]}).result_rows}
    merge_pairs = sorted(((a, b, j) for (a, b), j in overlap.items() if j >= MERGE_JACCARD), key=lambda p: -p[2])
    naming = [str(e) for e in validation.validate(rows) if e.column == "tag_name"]
    return Hygiene(len(active), len(used) / len(active) if active else 0.0, used, zombies, merge_pairs, naming, overlap)


def record(client, run_id: str, as_of: dt.date, hygiene: Hygiene) -> None:
    db.require_tables(client, f"{relation('hygiene')}")  # the dbt model models/quality/records/hygiene.sql
    client.insert(f"{relation('hygiene')}", [[run_id, as_of, *row] for row in hygiene.figures()],
                  column_names=["run_id", "as_of", "figure", "value", "status", "detail"])
