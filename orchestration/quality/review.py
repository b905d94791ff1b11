"""Human review of tag accuracy: a sheet a person checks, and the verdicts read back.

`tags quality review-sample` writes one CSV row per sampled customer and tag of the latest
published run, with the evidence a reviewer needs (recent orders, spend, replies, tickets; taken
from the independent recomputation of the accuracy sample) and an empty `verdict` column.
`tags quality review-import` reads the filled sheet (verdict: correct or wrong; empty rows are
skipped), keeps the verdicts in quality.review_verdicts and gives a human accuracy per tag:
healthy over 95%, risk under 85% (the seeds' bands).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from orchestration.relations import relation
from orchestration.publishing import publish
from orchestration.warehouse import db

COLUMNS = ("customer_id", "tag_key", "tag_value", "orders_90d", "spend_365d", "days_since_last_order",
           "last_orders", "replies_90d", "messages_sent_90d", "open_complaints", "verdict")
VERDICTS = ("correct", "wrong")


class ReviewError(ValueError):
    pass


def accuracy_status(accuracy: float) -> str:
    if accuracy > 0.95:
        return "healthy"
    return "risk" if accuracy < 0.85 else "warning"


def write_sample(client, out: Path, customers: int = 50) -> int:
    """Write the review sheet for up to `customers` customers of the accuracy sample; returns its rows."""
    current = publish.current_run(client)
    if current is None:
        raise ReviewError("nothing is published yet: run `tags refresh` first")
    run_id = current[0]
    rows = client.query(
        f"WITH sample AS (SELECT * FROM {relation('accuracy_sample_features')} ORDER BY cityHash64(customer_id) LIMIT %(n)s), "
        "recent AS (SELECT customer_id, arrayStringConcat(arraySlice(arrayReverseSort(groupArray("
        "  concat(toString(toDate(ordered_at)), ' ', status, ' ', toString(amount)))), 1, 5), '; ') AS last_orders "
        f"  FROM {relation('stg_orders')} WHERE customer_id IN (SELECT customer_id FROM sample) GROUP BY customer_id) "
        "SELECT tags.customer_id, tags.tag_key, tags.tag_value, sample.orders_90d, sample.spend_365d, "
        "  sample.days_since_last_order, recent.last_orders, sample.replies_90d, sample.messages_sent_90d, "
        "  sample.open_complaints "
        f"FROM {relation('tag_snapshots')} AS tags GLOBAL INNER JOIN sample ON sample.customer_id = tags.customer_id "
        "GLOBAL LEFT JOIN recent ON recent.customer_id = tags.customer_id "
        "WHERE tags.run_id = %(r)s ORDER BY tags.customer_id, tags.tag_key",
        parameters={"r": run_id, "n": customers}).result_rows
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")  # written whole, then renamed: never half a sheet
    with partial.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows([*row, ""] for row in rows)
    partial.replace(out)
    return len(rows)


@dataclass(frozen=True)
class TagAccuracy:
    tag_key: str
    correct: int
    wrong: int

    @property
    def accuracy(self) -> float:
        return self.correct / (self.correct + self.wrong)

    @property
    def status(self) -> str:
        return accuracy_status(self.accuracy)


def read_verdicts(path: Path) -> list[tuple[str, str, str]]:
    """(customer_id, tag_key, verdict) of every reviewed row; every problem names its line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReviewError(f"{path}: no such file") from None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in ("customer_id", "tag_key", "verdict") if c not in (reader.fieldnames or [])]
    if missing:
        raise ReviewError(f"{path.name} line 1: missing column(s) {', '.join(missing)}")
    verdicts, problems = [], []
    for line, row in enumerate(reader, start=2):
        verdict = (row["verdict"] or "").strip().lower()
        if not verdict:
            continue
        if verdict not in VERDICTS:
            problems.append(f"{path.name} line {line}, column verdict: {row['verdict']!r} is not correct or wrong")
            continue
        verdicts.append((row["customer_id"], row["tag_key"], verdict))
    if problems:
        raise ReviewError("; ".join(problems) + "; nothing was imported")
    if not verdicts:
        raise ReviewError(f"{path.name}: no row has a verdict (correct or wrong)")
    return verdicts


def import_verdicts(client, path: Path) -> list[TagAccuracy]:
    verdicts = read_verdicts(path)
    db.require_tables(client, f"{relation('review_verdicts')}")  # the dbt model models/quality/records/review_verdicts.sql
    client.insert(f"{relation('review_verdicts')}", [[dt.date.today(), path.name, *v] for v in verdicts],
                  column_names=["reviewed_on", "sheet", "customer_id", "tag_key", "verdict"])
    counts: dict[str, list[int]] = {}
    for _, tag_key, verdict in verdicts:
        counts.setdefault(tag_key, [0, 0])[verdict == "wrong"] += 1
    return [TagAccuracy(key, correct, wrong) for key, (correct, wrong) in sorted(counts.items())]
