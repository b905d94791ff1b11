"""Round two of the outside probe (issue 16), audiences and manual tags: a mistyped holdout, a holdout
released, exports aimed at device nodes and FIFOs, 25,000 ids at once, and manual tags written
beside a refresh.

Real servers and the `tags` command line, as the rest of the suite. The scenarios that append raw
rows (manual tag assignments, extra customers) come last: until the next refresh those rows are
waiting in raw, and the check that nothing was lost counts them as waiting, not as lost.
"""

from __future__ import annotations

import csv
import getpass
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.audiences import exports
from orchestration.quality import accounting
from tests.conftest import tags_cli
from tests.reliability.conftest import assert_clear_error, manual_assignments, record

AUDIENCE = "high_value_score"  # email; about a hundred members of the 2,000 demo customers
MANY = 25_000


def rows(client, sql: str, **parameters) -> list[tuple]:
    return client.query(sql, parameters=parameters or None).result_rows


def ids(path: Path) -> list[str]:
    with path.open(newline="") as file:
        return [row["customer_id"] for row in csv.DictReader(file)]


def audience_tables(client) -> dict[str, int]:
    exports.require_tables(client)
    return {table: rows(client, f"SELECT count() FROM audiences.{table}")[0][0] for table in ("holdouts", "export_log")}


def export(key: str, out: Path, *options: str) -> subprocess.CompletedProcess:
    return tags_cli("audience", "export", key, "--out", str(out), *options, timeout=300)


def waiting_in_raw(client) -> dict[str, int]:
    """Raw rows per table that are neither staged nor rejected (yet): appended since the last refresh."""
    return {a.table: a.raw - a.staged - a.rejected for a in accounting.accounts(client) if a.raw != a.staged + a.rejected}


def assert_nothing_lost_but_waiting(client, waiting: dict[str, int], manual_before: set[tuple]) -> None:
    """Every raw row is staged or rejected except the ones appended since the refresh (they wait in
    raw for the next one), and no manual assignment made before is gone."""
    assert manual_before <= manual_assignments(client)
    assert waiting_in_raw(client) == {t: n for t, n in waiting.items() if n}


# --- holdouts --------------------------------------------------------------------------------------

def test_a_holdout_above_half_the_audience_is_refused_before_anything_is_written(demo_night, client, tmp_path):
    before = audience_tables(client)
    out = tmp_path / "held.csv"
    result = export(AUDIENCE, out, "--holdout", "99.99%")  # the probe's typo: it held out every member for good
    assert_clear_error(result, "nothing was exported", "--holdout", "at most 50%", "99.99%")
    assert len((result.stdout + result.stderr).strip().splitlines()) == 1
    for share in ("50.01%", "0.51", "100%", "nan", "-1%"):
        with pytest.raises(exports.ExportError, match="at most 50%"):
            exports.parse_share(share)
    assert exports.parse_share("50%") == 0.5
    # the library refuses it too, for callers other than the command line
    with pytest.raises(exports.ExportError, match="at most 50%"):
        exports.export_audience(client, AUDIENCE, "csv", out, holdout_share=0.9999)
    assert audience_tables(client) == before and list(tmp_path.iterdir()) == []
    record(client, "bad input", "`tags audience export --holdout` 99.99% (once held out every member for good); "
           "50.01%, 0.51, 100%, nan, -1%", 6, "refused in one line before anything is written; at most 50%")


def test_a_released_holdout_is_exported_again_and_the_release_is_recorded(demo_night, client, tmp_path):
    sendable = exports.export_audience(client, AUDIENCE, "csv", tmp_path / "everyone.csv")
    assert sendable.exported > 0 and sendable.held_out == 0

    held = export(AUDIENCE, tmp_path / "held.csv", "--holdout", "50%", "--seed", "round-two")
    assert held.returncode == 0, held.stdout + held.stderr
    holdout = {r[0] for r in rows(client, "SELECT customer_id FROM audiences.holdouts WHERE audience_key = %(k)s",
                                  k=AUDIENCE)}
    assert len(holdout) == round(sendable.members / 2) and not holdout & set(ids(tmp_path / "held.csv"))
    again = exports.export_audience(client, AUDIENCE, "csv", tmp_path / "again.csv")  # stays out without --holdout
    assert again.held_out == len(holdout) and ids(tmp_path / "again.csv") == ids(tmp_path / "held.csv")

    released = tags_cli("audience", "release-holdout", AUDIENCE, "--reason", "control group typed wrong", timeout=300)
    assert released.returncode == 0, released.stdout + released.stderr
    assert f"released {len(holdout):,} customer(s) held out of {AUDIENCE}" in " ".join(released.stdout.split())
    assert rows(client, "SELECT count() FROM audiences.holdouts WHERE audience_key = %(k)s", k=AUDIENCE) == [(0,)]
    # recorded, not silently deleted: which customers, who, when and why
    log = rows(client, "SELECT customer_id, released_by, released_at <= now64(3), reason "
                       "FROM audiences.holdout_releases WHERE audience_key = %(k)s", k=AUDIENCE)
    assert {r[0] for r in log} == holdout and len(log) == len(holdout)
    assert {r[1:] for r in log} == {(getpass.getuser(), True, "control group typed wrong")}

    after = exports.export_audience(client, AUDIENCE, "csv", tmp_path / "after.csv")
    assert after.held_out == 0 and after.exported == sendable.exported
    assert ids(tmp_path / "after.csv") == ids(tmp_path / "everyone.csv")  # the released customers are sent to again

    # nothing held any more: a second release is refused naming the audience, and writes nothing
    with pytest.raises(exports.ExportError, match=f"no customers are held out of {AUDIENCE}; nothing was released"):
        exports.release_holdout(client, AUDIENCE)
    with pytest.raises(exports.ExportError, match="no audience 'no_such_audience'.*nothing was released"):
        exports.release_holdout(client, "no_such_audience")
    assert len(rows(client, "SELECT * FROM audiences.holdout_releases")) == len(holdout)
    record(client, "audience", f"holdout of 50% ({len(holdout)} customers) released with "
           "`tags audience release-holdout`, then released again", 2,
           "the next export includes them again; who, when and why kept in audiences.holdout_releases; "
           "a second release refused naming the audience")


# --- exports aimed at something that is not a regular file ------------------------------------------

def test_an_export_never_replaces_a_fifo_or_a_device_node(demo_night, client, tmp_path):
    before = audience_tables(client)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = export(AUDIENCE, fifo)
    assert_clear_error(result, "nothing was exported", str(fifo), "not a regular file")
    with pytest.raises(exports.ExportError, match="is a FIFO, not a regular file"):
        exports.export_tag_changes(client, "csv", fifo)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]  # no temporary file left beside it
    with pytest.raises(exports.ExportError, match="not a regular file"):
        exports.write_atomically(client, "SELECT 1", {}, "csv", fifo)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]

    # the device node of the probe: only tried once a FIFO is known to be refused (above), since the
    # code before this fix renamed its temporary file over /dev/null (the suite may run as root)
    null_before = os.stat("/dev/null")
    assert stat.S_ISCHR(null_before.st_mode)
    partials_before = set(Path("/dev").glob(".null.*"))
    with pytest.raises(exports.ExportError, match="character device"):
        exports.check_destination(Path("/dev/null"))  # the guard, before any command is pointed at it
    assert_clear_error(export(AUDIENCE, Path("/dev/null")), "--out /dev/null is a character device, not a regular file")
    with pytest.raises(exports.ExportError, match="/dev/null is a character device"):
        exports.export_tag_changes(client, "csv", Path("/dev/null"))
    null_after = os.stat("/dev/null")
    assert stat.S_ISCHR(null_after.st_mode) and null_after.st_rdev == null_before.st_rdev
    assert set(Path("/dev").glob(".null.*")) == partials_before
    assert audience_tables(client) == before
    record(client, "bad input", "export (audience and tag changes) to a FIFO and to /dev/null", 5,
           "refused in one line; the node left as it was; no temporary file; nothing logged")


# --- many ids at once -------------------------------------------------------------------------------

def test_25000_unknown_customer_ids_are_refused_in_one_line(demo_night, client):
    before = manual_assignments(client)
    unknown = [f"NOBODY{n:06d}" for n in range(MANY)]
    result = tags_cli("tag", "add", "influencer", *unknown, timeout=300)
    assert_clear_error(result, "unknown customer_id(s), not in raw.customers: NOBODY000000",
                       f"and {MANY - 10} more", "nothing was written")
    assert manual_assignments(client) == before
    record(client, "bad input", f"`tags tag add` with {MANY:,} unknown customer ids", 1,
           "one line naming the first 10 and the count; nothing written", before)


# --- manual tags beside a refresh --------------------------------------------------------------------

HOLD_LOCK = """
import sys
from orchestration.warehouse import refresh_lock
with refresh_lock.held("tags refresh (round-two test)"):
    print("held", flush=True)
    sys.stdin.read()  # until the test closes it
"""


def test_manual_tags_are_refused_while_a_refresh_holds_the_warehouse(demo_night, client):
    customer = rows(client, "SELECT customer_id FROM raw.customers ORDER BY customer_id LIMIT 1")[0][0]
    before = manual_assignments(client)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=dict(os.environ))
    try:
        assert holder.stdout.readline().strip() == "held"
        for action in ("add", "remove"):
            result = tags_cli("tag", action, "influencer", customer, timeout=300)
            output = assert_clear_error(result, "another refresh is writing to the warehouse", f"pid {holder.pid}",
                                        "round-two test", "wrote nothing", "start again")
            assert sum("error:" in line for line in output.splitlines()) == 1, output
        assert manual_assignments(client) == before
        record(client, "fault", "`tags tag add` and `tags tag remove` while a refresh holds the warehouse", 2,
               "refused at once naming the holder; nothing written", before)
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    # the lock is free again: the same command goes through
    done = tags_cli("tag", "add", "influencer", customer, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(manual_assignments(client) - before) == 1
    assert_nothing_lost_but_waiting(client, {"manual_tag_assignments": 1}, before)


def test_25000_customer_ids_are_added_in_one_go(demo_night, client):
    before = manual_assignments(client)
    waiting = waiting_in_raw(client)  # the assignment of the test before waits for the next refresh too
    # 23,000 more customers, each a copy of an existing one under a new id: 25,000 in raw.customers
    columns = [r[0] for r in rows(client, "SELECT name FROM system.columns WHERE database = 'raw' "
                                          "AND table = 'customers' ORDER BY position")]
    extra = MANY - rows(client, "SELECT count() FROM raw.customers")[0][0]
    copied = ", ".join("concat('BULK', leftPad(toString(number), 6, '0'))" if c == "customer_id" else f"c.{c}"
                       for c in columns)
    client.command(f"INSERT INTO raw.customers ({', '.join(columns)}) SELECT {copied} "
                   f"FROM (SELECT * FROM raw.customers ORDER BY customer_id LIMIT 1) AS c CROSS JOIN numbers({extra}) AS n")
    everyone = [r[0] for r in rows(client, "SELECT customer_id FROM raw.customers ORDER BY customer_id")]
    assert len(everyone) == MANY

    result = tags_cli("tag", "add", "influencer", *everyone, timeout=300)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert f"add: influencer for {MANY} customer(s)" in result.stdout
    added = manual_assignments(client) - before
    assert len(added) == MANY and {a[0] for a in added} == set(everyone)
    assert len({(a[3], a[4], a[5]) for a in added}) == 1  # one insert: one author, one instant, one load id
    assert_nothing_lost_but_waiting(client, {"customers": waiting.get("customers", 0) + extra, "manual_tag_assignments":
                                             waiting.get("manual_tag_assignments", 0) + MANY}, before)
    # record(None, ...): the raw balance is checked above, with these rows waiting for the next refresh
    record(None, "load", f"`tags tag add` with {MANY:,} customer ids (died with 'Max query size exceeded')", 1,
           f"all {MANY:,} appended by one insert, the ids sent as data; earlier assignments all kept")
