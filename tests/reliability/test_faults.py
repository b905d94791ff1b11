"""Faults during the nightly refresh: killed processes, an unreachable warehouse, two refreshes at once.

After each, the published tags are whole (yesterday's or tonight's, never a mix), every raw row is
staged or rejected, manual tag assignments are all still there, and the next refresh succeeds.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time

import pytest

from orchestration.catalog import catalog
from orchestration.dagster import refresh
from orchestration.publishing import publish
from orchestration.warehouse import refresh_lock, warehouse
from tests.conftest import BUILD_TIME_COLUMNS, TAGS_COMMAND, free_port, published_state, table_checksums, tags_cli
from tests.integration.known import AS_OF
from tests.reliability.conftest import assert_clear_error, manual_assignments, read_until, record

DAY_2 = AS_OF + dt.timedelta(days=1)
DAY_3 = AS_OF + dt.timedelta(days=2)
PUBLISHED_TABLES = ["tags.customer_tags", "tags.tag_bitmaps", "tags.tag_catalog", "tags.customer_profile",
                    "tags.tag_changes", "tags.all_customers", "audiences.audience_bitmaps", "audiences.audience_sizes"]
# dbt's progress lines, in build order: a point in staging, in the tag models, in the store
IN_STAGING = "START sql incremental model `staging`"
IN_TAGS = "START sql table model `tag_models`"


@pytest.fixture(scope="module")
def manual_before(demo_night, client):
    """Manual tag assignments made before the faults: every one must survive them."""
    demo_rows = len(manual_assignments(client))
    ids = [r[0] for r in client.query("SELECT customer_id FROM raw.customers ORDER BY customer_id LIMIT 3").result_rows]
    assert tags_cli("tag", "add", "influencer", *ids).returncode == 0
    assert tags_cli("tag", "remove", "influencer", ids[0]).returncode == 0
    before = manual_assignments(client)
    assert len(before) == demo_rows + 4
    return before


def start_refresh(day: dt.date, **env: str) -> subprocess.Popen:
    return subprocess.Popen([TAGS_COMMAND, "refresh", "--as-of", day.isoformat()], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True, env={**os.environ, **env})


def finish(process: subprocess.Popen, timeout: float = 900) -> str:
    output, _ = process.communicate(timeout=timeout)
    return output


@pytest.mark.parametrize("point", [IN_STAGING, IN_TAGS])
def test_a_refresh_killed_mid_run_leaves_the_published_tags_whole(demo_night, client, manual_before, point):
    before = published_state(client)
    process = start_refresh(DAY_2)
    assert point in read_until(process, point)[-1]
    time.sleep(1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert published_state(client) == before
    # the kernel released its lock with the process: nothing stands in the next refresh's way
    with refresh_lock.held("test"):
        pass
    record(client, "fault", f"refresh process SIGKILLed ({'staging' if point == IN_STAGING else 'tag models'})", 1,
           "published tags unchanged; lock released", manual_before)


@pytest.mark.slow
def test_a_killed_warehouse_fails_the_refresh_clearly_and_a_restart_retried_into_succeeds(demo_night, server, client,
                                                                                          manual_before):
    before = published_state(client)
    process = start_refresh(DAY_2)
    read_until(process, IN_TAGS)
    os.kill(warehouse.status(server.root).pid, signal.SIGKILL)
    output = finish(process)
    assert process.returncode == 1, output
    assert "error: the refresh as of" in output and "nothing was published" in output, output

    warehouse.start(server.root, server.http_port, server.tcp_port)
    assert published_state(client) == before  # yesterday's tags survived the kill, whole

    # down again at the start of the next refresh: it retries, and goes on once the warehouse is back
    warehouse.stop(server.root)
    process = start_refresh(DAY_2, WAREHOUSE_RETRY_SECONDS="3")
    assert "retry 1 of 3" in read_until(process, "retry 1 of 3")[-1]
    warehouse.start(server.root, server.http_port, server.tcp_port)
    output = finish(process)
    assert process.returncode == 0, output
    assert f"as of {DAY_2}" in output and "published run" in output
    assert client.query("SELECT DISTINCT as_of FROM tags.customer_tags").result_rows == [(DAY_2,)]
    record(client, "fault", "warehouse SIGKILLed mid-refresh, restarted; down at the next start, back during its retries",
           2, "refresh fails naming the step; tags unchanged; retried refresh publishes", manual_before)


def test_an_unreachable_warehouse_is_retried_then_named(demo_night, client):
    port = free_port()  # nothing listens there
    started = time.monotonic()
    result = tags_cli("refresh", env={"WAREHOUSE_HTTP_PORT": str(port), "WAREHOUSE_RETRY_SECONDS": "0.2"})
    output = assert_clear_error(result, f"cannot reach the warehouse at http://default@127.0.0.1:{port}",
                                "gave up after 3 retries", "tags warehouse start")
    assert [f"retry {n} of 3" in output for n in (1, 2, 3)] == [True] * 3
    assert time.monotonic() - started >= 0.2 + 0.4 + 0.8  # it waited between the tries
    record(client, "fault", "warehouse unreachable at start", 4, "3 retries with backoff, then one line naming the server")


def test_two_refreshes_at_once_one_writer(demo_night, client, manual_before):
    runs_before = client.query("SELECT count() FROM tag_store.publish_log").result_rows[0][0]
    first = start_refresh(DAY_3)
    read_until(first, "nightly job as of")  # it holds the lock from before the catalog sync

    second = tags_cli("refresh", "--as-of", DAY_3.isoformat())
    assert_clear_error(second, "another refresh is writing to the warehouse", f"pid {first.pid}", "this one wrote nothing")
    demo_run = tags_cli("demo", "--customers", "10")  # replacing raw under it is refused too
    assert_clear_error(demo_run, "another refresh is writing to the warehouse")
    # the Dagster job itself takes the lock too (its resource), so a run launched beside it fails at once
    in_process = refresh.run(DAY_3, None, catalog.load())
    assert not in_process.success and not in_process.published
    assert any("another refresh is writing" in failure for failure in in_process.failures), in_process.failures

    output = finish(first)
    assert first.returncode == 0, output
    runs = client.query("SELECT run_id, as_of FROM tag_store.publish_log ORDER BY published_at").result_rows
    assert len(runs) == runs_before + 1 and runs[-1][1] == DAY_3
    record(client, "fault", "two refreshes at once (CLI, Dagster job, demo beside a running refresh)", 3,
           "the later ones refused naming the holder; one run published", manual_before)


def test_a_run_counts_only_from_its_published_at_in_every_view(demo_night, client):
    """A publish_log row takes effect at its published_at, for all views of a query at once
    (macros/publish/published_runs.sql): one written ahead of that instant changes nothing yet."""
    before = published_state(client)
    client.command("INSERT INTO tag_store.publish_log (run_id, as_of, published_at) "
                   "SELECT 'not-yet', toDate('2026-12-31'), now64(3) + INTERVAL 1 HOUR")
    try:
        now = published_state(client)
        assert now["runs"][-1][0] == "not-yet"
        assert {k: v for k, v in now.items() if k != "runs"} == {k: v for k, v in before.items() if k != "runs"}
        assert publish.current_run(client)[0] == before["runs"][-1][0]
    finally:
        client.command("ALTER TABLE tag_store.publish_log DELETE WHERE run_id = 'not-yet'", settings={"mutations_sync": 1})
    assert published_state(client) == before


@pytest.mark.slow
def test_rerunning_an_as_of_is_idempotent_and_history_keeps_every_day(demo_night, client, manual_before):
    # a re-run is a new run: its id differs (audiences.audience_sizes shows it), what it published must not
    content = BUILD_TIME_COLUMNS | {"run_id"}
    before = table_checksums(client, PUBLISHED_TABLES, content)
    assert tags_cli("refresh", "--as-of", DAY_3.isoformat()).returncode == 0
    assert table_checksums(client, PUBLISHED_TABLES, content) == before
    history = client.query("SELECT as_of, count() FROM tags.tag_history GROUP BY as_of ORDER BY as_of").result_rows
    assert [day for day, _ in history] == [AS_OF, DAY_2, DAY_3] and all(n > 0 for _, n in history)
    # one run per published day is left in the store: re-runs and failed runs were cleaned up
    assert client.query("SELECT uniqExact(run_id), uniqExact(as_of) FROM tag_store.tag_snapshots").result_rows == [(3, 3)]
    record(client, "nothing lost", f"re-run of as_of {DAY_3}", 1,
           f"{len(PUBLISHED_TABLES)} published tables' checksums equal; history keeps 3 days", manual_before)
