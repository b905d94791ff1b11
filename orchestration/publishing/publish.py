"""Publishing a run: what it built becomes what BI reads in `tags`, all at once, or not at all.

dbt writes every run's outputs to the tag store (database tag_store) as rows carrying the run's
id, the wide profile included (profile_snapshots). Nothing there is visible to BI: the tables in
`tags` are views over the *published* runs (macros/publish/published_runs.sql). Publishing is:
1. one INSERT of (run_id, as_of, published_at, backfill, cutoff, lane, tag_keys) into tag_store.publish_log, published_at
   the next whole second but one: from that instant customer_tags, customer_profile, tag_bitmaps,
   tag_catalog, tag_history, tag_changes, catalog_changes and the audiences all read the new run
   together, in every query that starts from then on. That row is the only switch, so a run killed
   at any instant leaves one whole run visible: the old one before the row, the new one after.
2. housekeeping, once that instant has passed: the rows of runs nobody can see any more (failed,
   or superseded by a re-run of the same as_of) are deleted, the profile keeps only the current
   run (the history is the long table) and drops columns no active tag has, and days older than
   the retention period are dropped. A killed housekeeping is finished by the next publish.
A run of an as_of earlier than the current one is a backfill: it joins the history (tag_history,
tag_changes of later days compare with it) without replacing what BI reads now, unless asked
(`make_current`, `tags refresh --publish`).
A run that refines the night (publish_refinement: the intraday lane, new catalog rows) switches only its tags.
One refresh writes at a time (the warehouse lock and the single Dagster job see to that).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from dataclasses import dataclass

from orchestration.relations import relation
from orchestration import relations, settings
from orchestration.warehouse import shards

log = logging.getLogger(__name__)

PROFILE_KEEPS = ("run_id", "as_of", "customer_id")  # columns of profile_snapshots that are not tags
DEFAULT_RETENTION_DAYS = 400


class PublishError(RuntimeError):
    pass


def store_tables() -> tuple[str, ...]:
    """The run-versioned tables of the tag store (rows carry run_id, partitioned by as_of), from the dbt manifest."""
    return tuple(sorted(node["name"] for node in relations.models("tag_store", "incremental")
                        if node["config"].get("partition_by") == "as_of"))


def retention_days() -> int:
    """Days of tag history kept (TAG_HISTORY_RETENTION_DAYS, default 400)."""
    value = os.environ.get("TAG_HISTORY_RETENTION_DAYS", str(DEFAULT_RETENTION_DAYS))
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"TAG_HISTORY_RETENTION_DAYS must be a whole number of days, at least 1; got {value!r}")
    return int(value)


@dataclass(frozen=True)
class Published:
    run_id: str
    as_of: dt.date
    runs_removed: int
    days_dropped: list[str]
    backfill: bool = False  # joined the history; BI still reads the current run
    cutoff: dt.datetime | None = None  # the instant the run was evaluated at


def current_run(client) -> tuple[str, dt.date] | None:
    """(run_id, as_of) of the run BI reads now (the published_run view, the rule of every view in `tags`), or None."""
    rows = client.query(f"SELECT run_id, as_of FROM {relation('published_run')}").result_rows
    return tuple(rows[0]) if rows else None


def night_tag_keys(client) -> set[str] | None:
    """The tags the night BI reads now built, as its publish_log row lists them; None when there is no night, or
    its row lists none (published by a version before they were listed, whose views cannot show a run that refines
    the night with other tags than the intraday lane's: its next night rebuilds them)."""
    listed = client.query(f"SELECT tag_keys FROM {relation('publish_log')} WHERE (as_of, run_id) IN "
                          f"(SELECT as_of, run_id FROM {relation('published_run')})").result_rows
    return set(listed[0][0]) if listed and listed[0][0] else None


def new_tags_refusal(keys: list[str], rows, built_by_night: set[str] | None) -> str | None:
    """Why these tag keys cannot be built alone onto the published night (orchestration/dagster/new_tags.py), or None:
    each must be a built catalog row (rows) the night did not build (built_by_night: night_tag_keys)."""
    if built_by_night is None:
        return ("the published night does not list the tags it built (published by an earlier version): run the "
                "night again (`tags refresh --as-of <its day>`), then the new tags")
    built = {r.tag_key for r in rows if r.status != "archived"}
    unknown = [k for k in keys if k not in built]
    if unknown:
        return f"{', '.join(unknown)}: no built catalog row has this key (seeds/tag_catalog.csv)"
    old = [k for k in keys if k in built_by_night]
    if old:
        return (f"{', '.join(old)}: the published night built it already, so it is not new; "
                "`tags refresh --as-of <day> --select <tag>` runs the whole day again with it")
    return None


def publish(client, run_id: str, as_of: dt.date, *, cutoff: dt.datetime, keep_days: int | None = None,
            make_current: bool = False) -> Published:
    """cutoff: the instant the run was evaluated at (partitions.cutoff_of), recorded with it."""
    keep_days = retention_days() if keep_days is None else keep_days
    params = {"run_id": run_id, "as_of": as_of, "cutoff": cutoff}
    _refuse_if_published(client, run_id)
    for table in ("tag_catalog_snapshots", "profile_snapshots"):
        if not client.command(f"SELECT count() FROM {relation(table)} WHERE as_of = %(as_of)s AND run_id = %(run_id)s",
                              parameters=params):
            raise PublishError(f"run {run_id} has no rows as of {as_of} in {relation(table)}: its build did not "
                               "finish, so there is nothing to publish")
    current = current_run(client)
    params["backfill"] = int(current is not None and as_of < current[1] and not make_current)

    # The run counts from a whole second in the future (macros/publish/published_runs.sql): by then
    # its row is there for every view a query reads, and queries that started earlier see none of it.
    # tag_keys: every tag the run built (its catalog snapshot), the tags it switches (macros/publish/published_runs.sql)
    client.command(f"INSERT INTO {relation('publish_log')} (run_id, as_of, published_at, backfill, cutoff, lane, tag_keys) "
                   "SELECT %(run_id)s, %(as_of)s, toDateTime64(toStartOfSecond(now64(3)) + INTERVAL 2 SECOND, 3), %(backfill)s, "
                   f"%(cutoff)s, 'nightly', (SELECT arraySort(groupArray(tag_key)) FROM {relation('tag_catalog_snapshots')} "
                   "WHERE as_of = %(as_of)s AND run_id = %(run_id)s)", parameters=params)
    _wait_until_visible(client, run_id)
    _keep_only_the_current_profile(client)
    removed = _remove_invisible_runs(client)
    dropped = _drop_days_past_retention(client, keep_days)
    return Published(run_id, as_of, removed, dropped, bool(params["backfill"]), cutoff)


def publish_refinement(client, run_id: str, as_of: dt.date, *, cutoff: dt.datetime, tag_keys: list[str],
                       lane: str) -> Published:
    """Publish a run that refines the current night: one of the intraday lane (orchestration/dagster/intraday.py) or
    of new catalog rows (lane new_tags, orchestration/dagster/new_tags.py). Its tags (tag_keys) show its rows instead
    of those of the night or of an earlier refinement, in the same one-row switch, which names the night it refines
    (refines_run_id: every other tag stays where it is read from). It must be as of that night's as_of; housekeeping
    is the next night's (it deletes every refinement of an earlier night)."""
    params = {"run_id": run_id, "as_of": as_of, "cutoff": cutoff, "tag_keys": tag_keys}
    _refuse_if_published(client, run_id)
    current = current_run(client)
    if current is None or current[1] != as_of:
        raise PublishError(f"the {lane} run as of {as_of} refines the published night, which is "
                           f"{'none yet' if current is None else f'as of {current[1]}'}: nothing was published")
    built = {row[0] for row in client.query(f"SELECT tag_key FROM {relation('tag_catalog_snapshots')} WHERE as_of = %(as_of)s "
                                            "AND run_id = %(run_id)s", parameters=params).result_rows}
    if built != set(tag_keys):
        raise PublishError(f"run {run_id} built {sorted(built) or 'no tags'} in {relation('tag_catalog_snapshots')}, not "
                           f"the {lane} lane's {sorted(tag_keys)}: its build did not finish, so nothing was published")
    params["night"] = current[0]
    client.command(f"INSERT INTO {relation('publish_log')} (run_id, as_of, published_at, backfill, cutoff, lane, tag_keys, "
                   "refines_run_id) SELECT %(run_id)s, %(as_of)s, toDateTime64(toStartOfSecond(now64(3)) + INTERVAL 2 SECOND, 3), "
                   "0, %(cutoff)s, %(lane)s, %(tag_keys)s, %(night)s", parameters=params | {"lane": lane})
    _wait_until_visible(client, run_id)
    return Published(run_id, as_of, 0, [], False, cutoff)


def _refuse_if_published(client, run_id: str) -> None:
    if client.command(f"SELECT count() FROM {relation('publish_log')} WHERE run_id = %(run_id)s",
                      parameters={"run_id": run_id}):
        raise PublishError(f"run {run_id} is already published")


def _wait_until_visible(client, run_id: str) -> None:
    """Until the run's published_at has passed: from then on every query reads it."""
    while client.command(f"SELECT now64(3) < (SELECT published_at FROM {relation('publish_log')} WHERE run_id = %(run_id)s)",
                         parameters={"run_id": run_id}):
        time.sleep(0.1)


def _keep_only_the_current_profile(client) -> None:
    """The wide profile is for reading now (the history is the long table): drop its other days, and the
    columns of tags no longer in the profile (once no published view reads them)."""
    current = current_run(client)
    altered = altered_table(client, "profile_snapshots")
    if current is None or altered is None:
        return
    profile = ("profile_snapshots",)
    _drop_partitions(client, profile, _partitions(client, profile, "partition != %(day)s", day=str(current[1])))
    read = {row[0] for row in client.query(
        "SELECT name FROM system.columns WHERE concat(database, '.', table) = %(r)s",
        parameters={"r": relation("customer_profile")}).result_rows}
    stored = [row[0] for row in client.query(
        "SELECT name FROM system.columns WHERE concat(database, '.', table) = %(r)s",
        parameters={"r": relation("profile_snapshots")}).result_rows]
    for column in stored:
        if read and column not in read and column not in PROFILE_KEEPS:
            client.command(f"ALTER TABLE {altered} DROP COLUMN IF EXISTS `{column}`")


def altered_table(client, table: str) -> str | None:
    """What housekeeping alters for a store table: the table itself; for one sharded by customer (a
    Distributed table, macros/cluster/cluster.sql) its shard tables ON CLUSTER. None on the embedded
    two shards, which cannot run ON CLUSTER: there the rows stay on the shards, invisible (the views
    read published runs only), until the data directories are dropped."""
    engine = client.query("SELECT engine_full FROM system.tables WHERE concat(database, '.', name) = %(r)s",
                          parameters={"r": relation(table)}).result_rows  # not command(): it returns the text TSV-escaped
    sharded = shards.shards_of(engine[0][0] if engine else "")
    if not sharded:
        return relation(table)
    cluster, shard_database, shard_table = sharded
    if not settings.on_cluster_ddl():
        log.warning("%s is sharded and this warehouse cannot run ON CLUSTER: housekeeping leaves it as is", relation(table))
        return None
    return f"{shard_database}.{shard_table} ON CLUSTER '{cluster}'"


def _remove_invisible_runs(client) -> int:
    """Delete the rows of every run that is not the latest published nightly run of its as_of (failed or superseded),
    and of every run that refined a night (intraday, new_tags): run after a night's publish, which is the latest
    switch, so none of them is shown any more (macros/publish/published_runs.sql)."""
    visible = f"(SELECT argMax(run_id, published_at) FROM {relation('publish_log')} WHERE refines_run_id = '' GROUP BY as_of)"
    invisible = {row[0] for table in store_tables() for row in client.query(
        f"SELECT DISTINCT run_id FROM {relation(table)} WHERE run_id GLOBAL NOT IN {visible}").result_rows}
    if invisible:
        for table in store_tables():
            if altered := altered_table(client, table):
                client.command(f"ALTER TABLE {altered} DELETE WHERE run_id NOT IN {visible}",
                               settings={"mutations_sync": 1})
    return len(invisible)


def _drop_days_past_retention(client, keep_days: int) -> list[str]:
    """Drop whole as_of partitions older than keep_days before the newest published as_of."""
    newest = client.command(f"SELECT max(as_of) FROM {relation('publish_log')}")
    cutoff = dt.date.fromisoformat(str(newest)) - dt.timedelta(days=keep_days)
    days = _partitions(client, store_tables(), "toDate(partition) < %(cutoff)s", cutoff=cutoff)
    _drop_partitions(client, store_tables(), days)
    return days


def _partitions(client, tables: tuple[str, ...], condition: str, **params) -> list[str]:
    """The as_of partitions (days) of these store tables that meet condition, sorted."""
    return sorted({row[0] for row in client.query(
        f"SELECT DISTINCT partition FROM system.parts WHERE active AND concat(database, '.', table) IN %(tables)s "
        f"AND {condition}", parameters={"tables": [relation(t) for t in tables], **params}).result_rows})


def _drop_partitions(client, tables: tuple[str, ...], days: list[str]) -> None:
    for day in days:
        for table in tables:
            if altered := altered_table(client, table):
                client.command(f"ALTER TABLE {altered} DROP PARTITION '{day}'")
