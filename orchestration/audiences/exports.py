"""Exports for the tools that send messages: an audience to its channel, and the tag change feed.

An audience export holds only the customers a message may go to:
- the audience's members in the current published run (read pinned to that run, so the counts and
  the file describe the same customers even if a refresh publishes meanwhile);
- not in a live audience of higher priority, when `exclusive` is asked;
- not held out: a holdout is exactly the asked share of the audience (rounded to a customer, at most
  MAX_HOLDOUT_SHARE: a control group is a sample, and a mistyped 99.99% once held out every member),
  the members that come first when ordered by a hash of (seed, audience, customer), so the same seed
  and members give the same customers on every run. It is recorded in audiences.holdouts, and a
  recorded customer is kept out of every later export of that audience, with or without --holdout
  (a control group stays a control group when the audience changes), until the holdout is released
  (`tags audience release-holdout`: its rows move to audiences.holdout_releases with who, when and why);
- sent to one of the member's accounts (a member is a stitched customer: identity.stitched_customers
  lists its accounts) whose latest consent decision for the channel is granted (consent is given per
  account, so per identifier: staging.stg_consents_latest, a view over raw.consents read at export
  time, so a withdrawal loaded after the nightly run still counts; of two decisions at the same
  instant the withdrawal wins, and decisions dated in the future are ignored);
- with that account's contact field the channel needs (email for email, phone for sms and whatsapp;
  push goes by the account's customer id), and only that field. Of several such accounts the one
  that consented last is sent (then the least customer id): one message per person.
Counts of every reason a member was left out are returned, printed and written to
audiences.export_log; with a holdout, which group each member was in (held out or not) goes to
audiences.export_assignments, for campaign impact (impact.py) to compare them later. The file is
written beside its destination and renamed into place when complete: an interrupted export leaves
no file (and no partial one) at the destination. Only a regular file is ever created or replaced: an
existing destination that is anything else (a device node such as /dev/null, a FIFO, a socket, a
directory) is refused before anything is written.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import stat
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from orchestration.relations import relation
from orchestration.audiences import audiences
from orchestration.publishing import publish
from orchestration.warehouse import db

FORMATS = {"csv": "CSVWithNames", "parquet": "Parquet"}
MAX_HOLDOUT_SHARE = 0.5  # a control group is a sample of the audience, never most of it

# The logs an export appends to: dbt models (models/audiences/records/) with their comments and tests.
LOG_MODELS = ("export_log", "export_assignments", "holdouts", "holdout_releases")  # dbt models the export steps append to


# An export file's columns per channel: the member (stitched customer), the account it is sent to, its contact.
EXPORT_COLUMNS = {channel: ("customer_id", "source_customer_id", *fields)
                  for channel, fields in audiences.CHANNEL_FIELDS.items()}


class ExportError(ValueError):
    pass


@dataclass(frozen=True)
class ExportResult:
    export_id: str
    audience_key: str
    as_of: dt.date
    channel: str
    file: Path
    members: int
    left_out_priority: int
    held_out: int
    left_out_no_consent: int
    left_out_no_contact: int
    exported: int


def parse_share(text: str) -> float:
    """'10%' or '0.1' -> 0.1; from 0 to MAX_HOLDOUT_SHARE."""
    value = text.strip()
    try:
        share = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    except ValueError:
        raise ExportError(f"--holdout must be a share such as 10% or 0.1, got {text!r}") from None
    check_share(share, text)
    return share


def check_share(share: float, text: str | None = None) -> None:
    if not 0 <= share <= MAX_HOLDOUT_SHARE:  # also refuses nan
        raise ExportError(f"--holdout must be from 0% to at most {MAX_HOLDOUT_SHARE:.0%} of the audience (a control group "
                          f"is a sample, not the audience), got {text if text is not None else share!r}")


def require_tables(client) -> None:
    db.require_tables(client, *map(relation, LOG_MODELS))


def _audience(client, audience_key: str) -> tuple[str, int]:
    """(channel, priority) of a live audience, or ExportError saying why it cannot be exported."""
    rows = client.query(f"SELECT status, priority, channel, expires_on FROM {relation('audience_catalog')} "
                        "WHERE audience_key = %(key)s", parameters={"key": audience_key}).result_rows
    if not rows:
        raise ExportError(f"no audience {audience_key!r} in seeds/audiences.csv (see `tags audience list`)")
    status, priority, channel, expires_on = rows[0]
    if status != "live":
        raise ExportError(f"audience {audience_key!r} expired on {expires_on}: it is no longer built, so there is "
                          "nothing current to export (extend expires_on in seeds/audiences.csv to bring it back)")
    return channel, int(priority)


def classified_members_sql(audience_key: str, run_id: str, channel: str, priority: int, exclusive: bool,
                           holdout_share: float, holdout_seed: str) -> str:
    """One row per member of the audience in run run_id with why it is left out ('' = exported), and the account
    (source_customer_id) and contact it is sent to."""
    fields = audiences.CHANNEL_FIELDS[channel]
    contact = "".join(f", accounts.{f} AS {f}" for f in fields)
    chosen_contact = "".join(f", sendable.{f} AS {f}" for f in fields)
    has_contact = " AND ".join(f"ifNull(accounts.{f}, '') != ''" for f in fields) or "1"
    higher = (f"(SELECT groupBitmapMergeState(members) FROM {relation('audience_bitmap_snapshots')} AS s "
              f"INNER JOIN {relation('audience_catalog')} AS c ON c.audience_key = s.audience_key "
              f"WHERE s.run_id = {{run:String}} AND c.status = 'live' AND c.priority < {priority})")
    return f"""
WITH
    {higher if exclusive else 'bitmapBuild(emptyArrayUInt32())'} AS higher_priority,
    members AS (
        SELECT customer_index.customer_id AS customer_id,
               bitmapContains(higher_priority, customer_index.customer_index) AS in_higher_priority,
               row_number() OVER (ORDER BY cityHash64({{seed:String}}, {{key:String}}, customer_id), customer_id)
                   <= round({float(holdout_share)!r} * count() OVER ()) AS in_holdout_share
        FROM (SELECT arrayJoin(bitmapToArray(members)) AS customer_index
              FROM {relation('audience_bitmap_snapshots')}
              WHERE run_id = {{run:String}} AND audience_key = {{key:String}}) AS m
        INNER JOIN {relation('customer_index')} AS customer_index ON customer_index.customer_index = m.customer_index
    ),
    account_ids AS (
        SELECT customer_id FROM {relation('stitched_customers')}
        WHERE stitched_customer_id IN (SELECT customer_id FROM members)
    ),
    -- every account of every member, with its consent for the channel and whether it has the channel's contact
    member_accounts AS (
        SELECT stitched.stitched_customer_id AS customer_id, accounts.customer_id AS source_customer_id,
               ifNull(consent.granted, false) AS consented, consent.updated_at AS consented_at,
               {has_contact} AS has_contact{contact}
        FROM {relation('stitched_customers')} AS stitched
        INNER JOIN {relation('stg_customer_accounts')} AS accounts ON accounts.customer_id = stitched.customer_id
        LEFT JOIN (SELECT customer_id, granted, updated_at FROM {relation('stg_consents_latest')}
                   WHERE channel = {{channel:String}} AND customer_id IN (SELECT customer_id FROM account_ids)) AS consent
            ON consent.customer_id = accounts.customer_id
        WHERE stitched.stitched_customer_id IN (SELECT customer_id FROM members)
    ),
    consenting AS (
        SELECT DISTINCT customer_id FROM member_accounts WHERE consented
    ),
    -- the account each member is sent to: consented and reachable, the latest consent first
    sendable AS (
        SELECT * FROM member_accounts
        WHERE consented AND has_contact
        ORDER BY customer_id, consented_at DESC, source_customer_id
        LIMIT 1 BY customer_id
    )
SELECT
    members.customer_id AS customer_id,
    multiIf(
        members.in_higher_priority, 'priority',
        members.in_holdout_share
            OR members.customer_id IN (SELECT customer_id FROM {relation('holdouts')} WHERE audience_key = {{key:String}}),
            'holdout',
        members.customer_id NOT IN (SELECT customer_id FROM consenting), 'no_consent',
        sendable.customer_id IS NULL, 'no_contact',
        '') AS left_out,
    sendable.source_customer_id AS source_customer_id{chosen_contact}
FROM members
LEFT JOIN sendable ON sendable.customer_id = members.customer_id
SETTINGS join_use_nulls = 1
"""


def export_audience(client, audience_key: str, fmt: str, out: Path, holdout_share: float = 0.0,
                    holdout_seed: str = "holdout", exclusive: bool = False,
                    interrupt: Callable[[int], None] | None = None,
                    exported_at: dt.datetime | None = None) -> ExportResult:
    """Write the audience's sendable members to `out` (csv or parquet), all or nothing; see the module doc.

    `exported_at` (default now) is when the campaign goes out, the start of its impact window: the demo
    records a campaign sent the morning after its data ends."""
    if fmt not in FORMATS:
        raise ExportError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    check_share(holdout_share)
    check_destination(out)
    current = publish.current_run(client)
    if current is None:
        raise ExportError("nothing is published yet: run `tags refresh` first")
    run_id, as_of = current
    require_tables(client)
    channel, priority = _audience(client, audience_key)
    export_id = str(uuid.uuid4())
    classified = classified_members_sql(audience_key, run_id, channel, priority, exclusive, holdout_share, holdout_seed)
    params = {"run": run_id, "key": audience_key, "channel": channel, "seed": holdout_seed}

    counts = dict(client.query(f"SELECT left_out, count() FROM ({classified}) GROUP BY left_out",
                               parameters=params).result_rows)
    fields = ", ".join(EXPORT_COLUMNS[channel])
    rows_sql = f"SELECT {fields} FROM ({classified}) WHERE left_out = '' ORDER BY customer_id"
    write_atomically(client, rows_sql, params, fmt, out, interrupt)

    if counts.get("holdout"):
        client.query(f"INSERT INTO {relation('holdouts')} SELECT {{key:String}}, customer_id, {{export_id:String}}, "
                     f"{{seed:String}}, {{share:Float64}}, now64(3) FROM ({classified}) WHERE left_out = 'holdout'",
                     parameters={**params, "export_id": export_id, "share": holdout_share})
        # both groups as assigned (intention to treat): a member left out for consent or contact stays treated
        client.query(f"INSERT INTO {relation('export_assignments')} SELECT {{export_id:String}}, {{key:String}}, "
                     f"customer_id, left_out = 'holdout' FROM ({classified}) WHERE left_out != 'priority'",
                     parameters={**params, "export_id": export_id})
    result = ExportResult(export_id, audience_key, as_of, channel, out, sum(counts.values()), counts.get("priority", 0),
                          counts.get("holdout", 0), counts.get("no_consent", 0), counts.get("no_contact", 0),
                          counts.get("", 0))
    client.insert(f"{relation('export_log')}", [[
        export_id, exported_at or dt.datetime.now(dt.timezone.utc), audience_key, run_id, as_of, channel, fmt, str(out),
        result.members, result.left_out_priority, result.held_out, result.left_out_no_consent,
        result.left_out_no_contact, result.exported, holdout_share, holdout_seed, exclusive]],
        column_names=["export_id", "exported_at", "audience_key", "run_id", "as_of", "channel", "format", "file",
                      "members", "left_out_priority", "held_out", "left_out_no_consent", "left_out_no_contact",
                      "exported", "holdout_share", "holdout_seed", "exclusive"])
    return result


def export_tag_changes(client, fmt: str, out: Path, as_of: dt.date | None = None, tag_key: str | None = None,
                       change: str | None = None) -> int:
    """Write tags.tag_changes (one published as_of, default the latest; optionally one tag and one kind of
    change) to `out`, all or nothing. Returns the number of rows."""
    if fmt not in FORMATS:
        raise ExportError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if change not in (None, "added", "removed", "changed"):
        raise ExportError(f"--change must be added, removed or changed, got {change!r}")
    check_destination(out)
    where = ["as_of = " + ("{as_of:Date}" if as_of else f"(SELECT max(as_of) FROM {relation('tag_changes')})")]
    if tag_key:
        _require_known_tag(client, tag_key)
        where.append("tag_key = {tag:String}")
    if change:
        where.append("change = {change:String}")
    query = (f"SELECT as_of, customer_id, tag_key, change, old_value, new_value, is_baseline FROM {relation('tag_changes')} "
             f"WHERE {' AND '.join(where)} ORDER BY tag_key, customer_id")
    params = {name: value for name, value in (("as_of", as_of), ("tag", tag_key), ("change", change)) if value}
    count = int(client.query(f"SELECT count() FROM ({query})", parameters=params).result_rows[0][0])
    write_atomically(client, query, params, fmt, out)
    return count


def _require_known_tag(client, tag_key: str) -> None:
    """A misspelt tag key would export an empty feed and look like a quiet night: refuse it, with the closest
    key. Known: every tag of the catalog and every tag the feed has ever held (an archived tag keeps its past)."""
    import difflib

    from orchestration.catalog import catalog

    known = {row.tag_key for row in catalog.load()}
    known |= {r[0] for r in client.query(f"SELECT DISTINCT tag_key FROM {relation('tag_changes')}").result_rows}
    if tag_key not in known:
        close = difflib.get_close_matches(tag_key, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ExportError(f"unknown tag {tag_key!r}{hint}: not in seeds/tag_catalog.csv nor ever in "
                          f"{relation('tag_changes')}; nothing was written")


def release_holdout(client, audience_key: str, released_by: str | None = None, reason: str = "") -> int:
    """Release every customer held out of the audience so far: the next export includes them again.

    Their rows move from audiences.holdouts to audiences.holdout_releases with who, when and why, so a
    released control group can still be told apart afterwards. Returns how many customers; ExportError
    when none is held out."""
    require_tables(client)
    cut = client.command("SELECT toString(now64(3))")  # holdouts recorded from here on stay
    params = {"key": audience_key, "cut": cut, "by": released_by or getpass.getuser(), "reason": reason}
    held = f"{relation('holdouts')} FINAL WHERE audience_key = {{key:String}} AND recorded_at <= {{cut:DateTime64(3)}}"
    count = int(client.command(f"SELECT uniqExact(customer_id) FROM {held}", parameters=params))
    if not count:
        known = client.query(f"SELECT count() FROM {relation('audience_catalog')} WHERE audience_key = {{key:String}}",
                             parameters=params).result_rows[0][0]
        if not known:
            raise ExportError(f"no audience {audience_key!r} in seeds/audiences.csv and no holdout recorded for it; "
                              "nothing was released")
        raise ExportError(f"no customers are held out of {audience_key}; nothing was released")
    client.command(f"INSERT INTO {relation('holdout_releases')} SELECT audience_key, customer_id, export_id, holdout_seed, "
                   "holdout_share, recorded_at, {cut:DateTime64(3)}, {by:String}, {reason:String} FROM " + held,
                   parameters=params)
    # the log row is in first: a release stopped here is finished by running it again (the log keeps one row)
    client.command(f"DELETE FROM {relation('holdouts')} WHERE audience_key = {{key:String}} "
                   "AND recorded_at <= {cut:DateTime64(3)}",
                   parameters=params)
    return count


def check_destination(out: Path) -> None:
    """ExportError unless `out` is missing or a regular file (followed through symbolic links): an export
    renames its file into place, which would replace a device node or a FIFO with a file of contact data."""
    try:
        mode = os.stat(out).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise ExportError(f"--out {out} is a directory; give a file name")
    kind = ("a character device" if stat.S_ISCHR(mode) else "a block device" if stat.S_ISBLK(mode)
            else "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a special file")
    raise ExportError(f"--out {out} is {kind}, not a regular file: an export only creates or replaces regular files")


def write_atomically(client, query: str, params: dict, fmt: str, out: Path,
                     interrupt: Callable[[int], None] | None = None) -> None:
    """Stream the query's result in the format to a temporary file beside `out`, then rename it into place.

    `interrupt`, called after each chunk with the bytes written so far, is how tests stop an export midway."""
    out = Path(out)
    check_destination(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    try:
        written = 0
        with os.fdopen(handle, "wb") as file:
            with client.raw_stream(query, parameters=params, fmt=FORMATS[fmt]) as stream:
                for chunk in stream:
                    file.write(chunk)
                    written += len(chunk)
                    if interrupt:
                        interrupt(written)
            file.flush()
            os.fsync(file.fileno())
        check_destination(out)  # again: it may have been made a FIFO or a device meanwhile
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
