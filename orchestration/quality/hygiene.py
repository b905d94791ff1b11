"""Catalog hygiene, measured each run against the seeds' bands and kept as history (quality.hygiene).

- total active tags: healthy 15-35, risk over 50 (between: warning);
- usage: the uses of every active tag in the 90 days up to the run's as_of, per kind and user:
  an audience built with the tag on a published night (one per audience and night; user: the audience's owner),
  an export of an audience using it (audiences.export_log; user: the audience's owner), and a BI or console query
  naming it (ClickHouse's query log: finished SELECTs on the `tags` database naming the tag as a word; user: the
  log's `user`, "console" for the console). The pipeline's own queries (its user, outside the console) are not use.
  The tags of an audience are read from its expression of that night by the audience parser. Audience nights
  count by as_of; exports and queries by when they happened, from the window's start on;
- usage rate: share of active tags used at least once in the window; healthy over 80%, risk under 60%;
- zombie tags: active tags with fewer than 3 uses in the window (source document 003: review quarterly and merge
  tags "used fewer than 3 times in the last 90 days"), once a whole window has passed since their first
  publication: archive suggested over 50 members, deletion under 10 members and 180 days unused;
- merge suggestions: pairs of flag tags whose members overlap 85% or more (Jaccard over bitmaps);
- naming violations: tag names breaking the naming rules (the catalog validator's own checks).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from orchestration import settings
from orchestration.audiences import audiences
from orchestration.relations import relation
from orchestration.catalog import catalog, validation
from orchestration.warehouse import db

USAGE_DAYS = 90
ZOMBIE_USES = 3  # fewer uses than this in the window make a zombie
DELETE_DAYS = 180
USE_KINDS = ("audience", "export", "query")
# What the console sends with its queries (orchestration/console/api.py): it logs in as the pipeline's user, and its
# reads are use.
CONSOLE_LOG_COMMENT = "tags console"
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
class Use:
    """Uses of one tag of one kind by one user in the window, and the last day of them."""

    tag_key: str
    kind: str  # audience, export or query (USE_KINDS)
    user: str
    uses: int
    last_used: dt.date


@dataclass(frozen=True)
class Hygiene:
    total_active: int
    usage_rate: float
    used: list[str]
    zombies: list[tuple[str, int, int, int, str]]  # tag_key, members, uses, days unused, suggestion
    merge_pairs: list[tuple[str, str, float]]
    naming_violations: list[str]
    overlap: dict[tuple[str, str], float] = field(default_factory=dict)  # every flag pair, for the heatmap
    uses: list[Use] = field(default_factory=list)

    def uses_of(self, tag_key: str) -> int:
        return sum(u.uses for u in self.uses if u.tag_key == tag_key)

    def figures(self) -> list[tuple[str, float, str, str]]:
        """(figure, value, status, detail) rows as kept in quality.hygiene."""
        return [
            ("total_active_tags", self.total_active, total_tags_status(self.total_active), "healthy 15-35, risk over 50"),
            ("usage_rate", round(self.usage_rate, 4), usage_status(self.usage_rate), ", ".join(self.used)),
            ("tag_uses", sum(u.uses for u in self.uses), "healthy",
             "; ".join(f"{u.tag_key}: {u.uses} {u.kind} by {u.user}" for u in self.uses)),
            ("zombie_tags", len(self.zombies), "healthy" if not self.zombies else "warning",
             "; ".join(f"{k} ({m} members, {n} uses, {d} days unused): {s}" for k, m, n, d, s in self.zombies)),
            ("merge_suggestions", len(self.merge_pairs), "healthy" if not self.merge_pairs else "warning",
             "; ".join(f"{a} + {b} ({j:.0%})" for a, b, j in self.merge_pairs)),
            ("naming_violations", len(self.naming_violations), "healthy" if not self.naming_violations else "risk",
             "; ".join(self.naming_violations)),
        ]


def uses(client, rows: list[catalog.CatalogRow], as_of: dt.date, days: int = USAGE_DAYS) -> list[Use]:
    """Every use of the active tags in the `days` up to as_of, per tag, kind and user (see the module docstring)."""
    keys = [r.tag_key for r in rows if r.is_active]
    since = as_of - dt.timedelta(days=days)
    found: dict[tuple[str, str, str], list] = {}

    def add(tag_key: str, kind: str, user: str, count: int, day: dt.date) -> None:
        if tag_key in keys:
            seen = found.setdefault((tag_key, kind, user), [0, day])
            seen[0], seen[1] = seen[0] + count, max(seen[1], day)

    # an audience's tags as its expression named them that night (the snapshot of seeds/audiences.csv of the run)
    for expression, owner, kind, count, day in client.query(
            f"SELECT listed.expression, listed.owner, 'audience', count(), max(built.as_of) "
            f"FROM {relation('audience_sizes')} AS built INNER JOIN {relation('audience_catalog_snapshots')} AS listed "
            "ON listed.run_id = built.run_id AND listed.audience_key = built.audience_key "
            "WHERE built.as_of BETWEEN %(since)s AND %(as_of)s GROUP BY listed.expression, listed.owner "
            "UNION ALL "
            f"SELECT listed.expression, listed.owner, 'export', count(), max(toDate(exported.exported_at)) "
            f"FROM {relation('export_log')} AS exported INNER JOIN {relation('audience_catalog_snapshots')} AS listed "
            "ON listed.run_id = exported.run_id AND listed.audience_key = exported.audience_key "
            "WHERE toDate(exported.exported_at) >= %(since)s GROUP BY listed.expression, listed.owner",
            parameters={"since": since, "as_of": as_of}).result_rows:
        for tag_key in audiences.tags_used(expression):
            add(tag_key, kind, owner, count, day)
    for tag_key, user, count, day in client.query(
            "SELECT tag_key, if(log_comment = %(console)s, 'console', user) AS by, count(), max(event_date) "
            "FROM system.query_log ARRAY JOIN %(keys)s AS tag_key "
            "WHERE type = 'QueryFinish' AND query_kind = 'Select' AND has(databases, 'tags') "
            "AND event_date >= %(since)s AND (user != %(pipeline)s OR log_comment = %(console)s) "
            "AND match(query, concat('\\\\b', tag_key, '\\\\b')) GROUP BY tag_key, by",
            parameters={"keys": keys or [""], "since": since, "console": CONSOLE_LOG_COMMENT,
                        "pipeline": settings.connection().user}).result_rows:
        add(tag_key, "query", user, count, day)
    return [Use(k, kind, user, count, day) for (k, kind, user), (count, day) in
            sorted(found.items(), key=lambda item: (item[0][0], USE_KINDS.index(item[0][1]), item[0][2]))]


def measure(client, rows: list[catalog.CatalogRow], as_of: dt.date) -> Hygiene:
    active = [r for r in rows if r.is_active]
    keys = [r.tag_key for r in active]
    window = uses(client, rows, as_of)
    counts: dict[str, int] = defaultdict(int)
    for u in window:
        counts[u.tag_key] += u.uses
    last_used: dict[str, dt.date] = {}  # over the longer window: how long a zombie has gone unused, for deletion
    for u in uses(client, rows, as_of, DELETE_DAYS):
        last_used[u.tag_key] = max(u.last_used, last_used.get(u.tag_key, u.last_used))
    catalog_now = {k: (m, first) for k, m, first in client.query(
        f"SELECT tag_key, member_count, first_built_on FROM {relation('published_tag_catalog')}").result_rows}
    used = sorted(k for k in keys if counts[k] > 0)
    zombies = []
    for key in keys:
        members, first_built = catalog_now.get(key, (0, as_of))
        if (as_of - first_built).days >= USAGE_DAYS and counts[key] < ZOMBIE_USES:
            days = (as_of - max(last_used.get(key, first_built), first_built)).days
            zombies.append((key, members, counts[key], days, zombie_suggestion(members, days)))
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
    return Hygiene(len(active), len(used) / len(active) if active else 0.0, used, zombies, merge_pairs, naming, overlap,
                   window)


def record(client, run_id: str, as_of: dt.date, hygiene: Hygiene) -> None:
    db.require_tables(client, f"{relation('hygiene')}")  # the dbt model models/quality/records/hygiene.sql
    client.insert(f"{relation('hygiene')}", [[run_id, as_of, *row] for row in hygiene.figures()],
                  column_names=["run_id", "as_of", "figure", "value", "status", "detail"])
