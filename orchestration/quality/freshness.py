"""Freshness: how old the newest fact in the data was when the tags were published, as dbt measures it.

dbt source freshness (models/staging/_sources.yml) measures raw orders, events and tickets: the newest
fact of each up to the end of as_of (later facts are rejected in staging, so a replayed date measures
its own data; rows of an unfinished load are not counted), against the clock when it runs, with its
thresholds: pass under 24 hours, warn from 24, error over 72. The Dagster check runs it right after
publishing, so its age is the delay from the newest fact to publishing, plus the seconds between the
two (the published_at of the run is shown beside it). The figure is that of the freshest of the three
sources, as one fresh kind of fact shows the data arrived; each source's own age and status are kept
beside it. dbt's statuses are shown as the seeds' bands: pass healthy, warn warning, error risk.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from orchestration.relations import relation

STATUS = {"pass": "healthy", "warn": "warning", "error": "risk"}


class FreshnessError(RuntimeError):
    pass


@dataclass(frozen=True)
class SourceFreshness:
    source: str  # raw.<table>
    newest_fact_at: dt.datetime
    checked_at: dt.datetime
    age_hours: float  # 0 when demo data or clock skew date the newest fact after the check
    status: str


@dataclass(frozen=True)
class Freshness:
    newest: SourceFreshness  # the freshest source: its newest fact is the newest in the data
    published_at: dt.datetime
    sources: tuple[SourceFreshness, ...]

    @property
    def delay_hours(self) -> float:
        return self.newest.age_hours

    @property
    def status(self) -> str:
        return self.newest.status

    def describe(self) -> str:
        each = ", ".join(f"{s.source} {s.age_hours:.1f} h ({s.status})" for s in self.sources)
        return (f"newest fact {self.newest.newest_fact_at:%Y-%m-%d %H:%M} ({self.newest.source}), published "
                f"{self.published_at:%Y-%m-%d %H:%M}, checked {self.newest.checked_at:%Y-%m-%d %H:%M:%S} by dbt source "
                f"freshness: {self.delay_hours:.1f} h, {self.status} ({each})")


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.timezone.utc).replace(tzinfo=None)


def from_sources_json(artifact: dict, published_at: dt.datetime) -> Freshness:
    """The figure from dbt's sources.json; FreshnessError names a source dbt could not measure."""
    results = artifact.get("results") or []
    failed = [f"{r['unique_id']}: {r.get('error') or r.get('status')}" for r in results if r.get("status") not in STATUS]
    if failed or not results:
        raise FreshnessError("dbt source freshness measured nothing: " + ("; ".join(failed) or
                             "no source has a freshness in models/staging/_sources.yml"))
    sources = tuple(sorted((SourceFreshness(
        source=r["unique_id"].split(".", 2)[2],
        newest_fact_at=_utc(r["max_loaded_at"]),
        checked_at=_utc(r["snapshotted_at"]),
        age_hours=round(max(0.0, r["max_loaded_at_time_ago_in_s"]) / 3600, 2),
        status=STATUS[r["status"]]) for r in results), key=lambda s: s.source))
    return Freshness(min(sources, key=lambda s: (s.age_hours, s.source)), published_at, sources)


def published_at(client, run_id: str) -> dt.datetime:
    """When the run was published (tag_store.publish_log), to second precision."""
    return client.query(f"SELECT toDateTime(max(published_at)) FROM {relation('publish_log')} WHERE run_id = %(r)s",
                        parameters={"r": run_id}).result_rows[0][0]
