"""`tags tag add|remove KEY CUSTOMER_ID...`: hand-picked tags, appended to raw.manual_tag_assignments.

The log is append-only; per customer and tag the latest add or remove wins (macros/tags/manual_tag.sql),
and the next refresh publishes it. Everything is checked before anything is written: the tag must be a
manual tag of the catalog, and every customer must exist in raw.customers.

The ids travel as data, never as SQL text: they are sent with the query as an external table
(ClickHouse's HTTP external data), so the lookup and the append are each one statement whatever the
number of ids (a list spliced into the SQL stopped at max_query_size, about 20,000 ids). The append
is one INSERT, so it is all or nothing. `tags tag add|remove` holds the warehouse's refresh lock
(orchestration/warehouse/refresh_lock.py) around this: a refresh counts raw rows at its start and end, and a
row appended meanwhile broke its accounting.
"""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import io
import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from orchestration.catalog import catalog, catalog_edits

if TYPE_CHECKING:
    from clickhouse_connect.driver.external import ExternalData

ACTIONS = ("add", "remove")


class ManualTagError(ValueError):
    pass


def assign(client, rows: list[catalog.CatalogRow], action: str, tag_key: str, customer_ids: list[str],
           assigned_by: str | None = None, assigned_at: dt.datetime | None = None) -> int:
    """Append one row per customer (at the warehouse's clock unless assigned_at is given); returns the count."""
    if action not in ACTIONS:
        raise ManualTagError(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
    row = next((r for r in rows if r.tag_key == tag_key), None)
    if row is None:
        raise ManualTagError(f"no tag {tag_key!r} in seeds/tag_catalog.csv")
    if row.method != "manual":
        raise ManualTagError(f"tag {tag_key!r} is a {row.method} tag (catalog line {row.row_number}); "
                             "only manual tags are assigned by hand")
    if row.status == "archived":
        raise ManualTagError(f"tag {tag_key!r} is archived (catalog line {row.row_number})")
    wanted = list(dict.fromkeys(c.strip() for c in customer_ids if c.strip()))
    if not wanted:
        raise ManualTagError("no customer ids given")
    known = {r[0] for r in client.query(
        f"SELECT customer_id FROM raw.customers WHERE customer_id IN (SELECT customer_id FROM {WANTED})",
        external_data=_wanted(wanted)).result_rows}
    unknown = [c for c in wanted if c not in known]
    if unknown:
        shown = ", ".join(unknown[:10]) + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
        raise ManualTagError(f"unknown customer_id(s), not in raw.customers: {shown}; nothing was written")
    load_id = f"manual-{uuid.uuid4().hex[:12]}"
    client.command(
        "INSERT INTO raw.manual_tag_assignments (customer_id, tag_key, action, assigned_by, assigned_at, _load_id) "
        "SELECT customer_id, %(tag_key)s, %(action)s, %(by)s, " + ("%(at)s" if assigned_at else "now()")
        + f", %(load_id)s FROM {WANTED}",
        parameters={"tag_key": tag_key, "action": action, "by": assigned_by or getpass.getuser(),
                    "at": assigned_at, "load_id": load_id},
        external_data=_wanted(wanted),
    )
    return len(wanted)


WANTED = "wanted_customer_ids"  # the external table of the ids given


def _wanted(customer_ids: list[str]) -> ExternalData:
    """The ids as an external table of one String column, sent in the request body (JSON lines: any id is data)."""
    from clickhouse_connect.driver.external import ExternalData  # the driver loads with the first client, not at import

    data = "\n".join(json.dumps({"customer_id": c}, ensure_ascii=False) for c in customer_ids).encode()
    return ExternalData(file_name=WANTED, data=data, fmt="JSONEachRow", structure="customer_id String")


def create(tag_key: str, attribute: str, category: str, owner: str, description: str, created_by: str,
           path: Path = catalog.CATALOG_FILE) -> catalog.CatalogRow:
    """Append a manual tag to the catalog: tag_name is "<category prefix>-<attribute>" (at most 20 characters),
    the description is required. The whole catalog is validated with the new row first; the file is replaced
    only when it is valid, so a refused tag leaves it as it was (catalog_edits.replace, the one writer). The next refresh (or `tags refresh --select KEY`)
    builds the tag; customers are then given it by hand."""
    if not description.strip():
        raise ManualTagError("a description is required: say what the tag means and who picks its customers")
    prefix = catalog.CATEGORIES.get(category)
    if prefix is None:
        raise ManualTagError(f"unknown category {category!r}; one of {', '.join(catalog.CATEGORIES)}")
    cells = {"tag_key": tag_key.strip(), "tag_name": f"{prefix}-{attribute.strip()}", "category": category,
             "method": "manual", "value_type": "flag", "rule": "", "params": "", "owner": owner.strip(),
             "description": " ".join(description.split()), "status": "active", "coverage_min": "0",
             "coverage_max": "1", "blocking_checks": "coverage", "when_blocked": "hold_tag", "evaluated_at": "day_end",
             "lane": "nightly", "updated_by": created_by, "updated_at": dt.date.today().isoformat()}
    line = io.StringIO()
    csv.writer(line, lineterminator="\n").writerow([cells[c] for c in catalog.COLUMNS])
    text = path.read_text()
    rows = catalog_edits.replace(text + ("" if text.endswith("\n") else "\n") + line.getvalue(), path, ManualTagError)
    return rows[-1]  # the file now holds what was checked: the row appended is its last
