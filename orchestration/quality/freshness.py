"""Freshness: how old the newest fact in the data was when the tags were published.

Healthy under 24 hours, a warning from 24 to 72 hours, a risk over 72 hours (the seeds' thresholds).
The newest fact is the latest order, event or ticket timestamp in staging (facts after the end of
as_of are rejected there, so a replayed date measures its own data).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

HEALTHY_HOURS = 24
RISK_HOURS = 72


def status_of(delay_hours: float) -> str:
    if delay_hours < HEALTHY_HOURS:
        return "healthy"
    return "risk" if delay_hours > RISK_HOURS else "warning"


@dataclass(frozen=True)
class Freshness:
    newest_fact_at: dt.datetime
    published_at: dt.datetime
    delay_hours: float
    status: str

    def describe(self) -> str:
        return (f"newest fact {self.newest_fact_at:%Y-%m-%d %H:%M}, published {self.published_at:%Y-%m-%d %H:%M}: "
                f"{self.delay_hours:.1f} h, {self.status}")


def measure(client, run_id: str) -> Freshness:
    newest, published = client.query(
        "SELECT greatest((SELECT max(ordered_at) FROM staging.stg_orders), (SELECT max(event_at) FROM staging.stg_events),"
        "                (SELECT max(opened_at) FROM staging.stg_tickets)),"
        "       (SELECT toDateTime(max(published_at)) FROM tag_store.publish_log WHERE run_id = %(r)s)",
        parameters={"r": run_id}).result_rows[0]
    # demo data and clock skew can date facts after the publish time: that is no delay at all
    delay = max(0.0, (published - newest).total_seconds() / 3600)
    return Freshness(newest, published, round(delay, 2), status_of(delay))
