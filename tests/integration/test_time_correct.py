"""The evaluation instant: the nightly run at 02:00 sees the night's payments, and a replay by date is deterministic."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest

from orchestration.catalog import catalog
from orchestration.dagster import refresh
from orchestration.dagster.partitions import CUTOFF_TAG, parse_cutoff
from tests.integration.known import AS_OF, END, customer, load_raw

TICK = END + dt.timedelta(hours=2)  # 02:00 the morning after AS_OF


def placed(order_id: str, at: dt.datetime, paid: dt.datetime | None) -> list:
    """An order of customer order_id, placed at `at`, paid at `paid` (or not yet)."""
    status = "paid" if paid else "pending_payment"
    return [order_id, order_id, at, status, Decimal("100.00"), paid, None, None, None, "web"]


HOUR = dt.timedelta(hours=1)
ORDERS = [
    placed("PAID-2200", END - 4 * HOUR, paid=END - 2 * HOUR),            # paid at 22:00 the day before
    placed("PAID-0100", END - HOUR / 2, paid=END + HOUR),                # placed 23:30, paid at 01:00
    placed("PAID-0130-DAY-BEFORE", END - 24 * HOUR + HOUR, paid=END - 24 * HOUR + 1.5 * HOUR),  # 24.5 h before 02:00
    placed("UNPAID-0030", END + HOUR / 2, paid=None),                    # unpaid for 90 minutes at 02:00
    placed("UNPAID-0130", END + 1.5 * HOUR, paid=None),                  # unpaid for 30 minutes at 02:00
    placed("PAID-0030-AFTER-14H", END - 14 * HOUR, paid=END + HOUR / 2),  # unpaid at midnight, paid at 00:30
]
# enough customers without an open order that the tags' coverage stays in the catalog's range
QUIET = [f"Q{n:02d}" for n in range(40)]


def tags_of(client, tag_key: str) -> set[str]:
    return {r[0] for r in client.query("SELECT customer_id FROM tags.customer_tags WHERE tag_key = %(t)s",
                                       parameters={"t": tag_key}).result_rows}


@pytest.fixture(scope="module")
def nightly_at_two(client):
    """The schedule's 02:00 tick after AS_OF, run as the schedule runs it."""
    import dagster as dg

    from orchestration.dagster.definitions import defs

    load_raw(client, customers=[customer(c) for c in [r[0] for r in ORDERS] + QUIET],
             products=[["P", "fashion", "b", Decimal("1")]], orders=ORDERS)
    tick = TICK.replace(tzinfo=dt.timezone.utc)
    [request] = defs.resolve_schedule_def("nightly").evaluate_tick(dg.build_schedule_context(
        scheduled_execution_time=tick, repository_def=defs.get_repository_def())).run_requests
    as_of = dt.date.fromisoformat(request.partition_key)
    outcome = refresh.run(as_of, None, catalog.load(), cutoff=parse_cutoff(request.tags[CUTOFF_TAG], as_of))
    assert outcome.published, outcome.failures
    return as_of


def test_the_0200_run_is_as_of_the_day_before_and_evaluated_at_0200(nightly_at_two, client):
    assert nightly_at_two == AS_OF
    assert client.query("SELECT as_of, cutoff FROM tags.published_run").result_rows == [(AS_OF, TICK)]
    assert dict(client.query("SELECT tag_key, evaluated_at FROM tags.tag_catalog WHERE tag_key IN "
                             "('awaiting_payment', 'vip')").result_rows) == {"awaiting_payment": "cutoff", "vip": "day_end"}


def test_payments_of_the_night_count_and_an_order_of_a_minute_ago_does_not(nightly_at_two, client):
    # paid within the 24 hours before 02:00 and not shipped: 22:00 and 01:00, not 01:30 the day before
    assert tags_of(client, "paid_awaiting_shipment") == {"PAID-2200", "PAID-0100", "PAID-0030-AFTER-14H"}
    # unpaid for more than an hour at 02:00: placed at 00:30; not the one placed at 01:30, nor those paid since
    assert tags_of(client, "awaiting_payment") == {"UNPAID-0030"}


def test_the_accuracy_sample_agrees_with_the_run_at_the_cutoff(nightly_at_two, client):
    mismatches = client.query("SELECT tag_key, customer_id FROM quality.accuracy_mismatches "
                              "WHERE run_id = (SELECT run_id FROM tags.published_run)").result_rows
    assert mismatches == []


@pytest.mark.slow
def test_a_replay_by_date_is_evaluated_at_the_end_of_the_day_whatever_was_loaded_since(nightly_at_two, client):
    outcome = refresh.run(AS_OF, None, catalog.load())  # no cutoff: the end of AS_OF
    assert outcome.published, outcome.failures
    assert client.query("SELECT cutoff FROM tags.published_run").result_rows == [(END,)]
    # at midnight: paid at 22:00 and at 01:30 the day before (22.5 hours); the 01:00 payment had not happened
    assert tags_of(client, "paid_awaiting_shipment") == {"PAID-2200", "PAID-0130-DAY-BEFORE"}
    # unpaid at midnight for more than an hour, though paid at 00:30 since; the 23:30 order was 30 minutes old
    assert tags_of(client, "awaiting_payment") == {"PAID-0030-AFTER-14H"}


@pytest.mark.slow
def test_a_manual_tag_shows_to_bi_at_once_and_the_next_night_counts_it_once(nightly_at_two, client, server):
    import clickhouse_connect

    from orchestration.warehouse import bi_access
    from tests.conftest import BI_TEST_PASSWORD, tags_cli

    bi = clickhouse_connect.get_client(host="127.0.0.1", port=server.http_port, username=bi_access.BI_USER,
                                       password=BI_TEST_PASSWORD, autogenerate_session_id=False)

    def seen_by_bi() -> tuple[set[str], set[str]]:
        long = {r[0] for r in bi.query("SELECT customer_id FROM tags.customer_tags WHERE tag_key = 'influencer'").result_rows}
        wide = {r[0] for r in bi.query("SELECT customer_id FROM tags.customer_profile WHERE influencer = 1").result_rows}
        return long, wide

    def bitmap_count() -> list[tuple]:
        return bi.query("SELECT member_count FROM tags.tag_bitmaps WHERE tag_key = 'influencer'").result_rows

    assert seen_by_bi() == (set(), set())
    added = tags_cli("tag", "add", "influencer", "Q01", "Q02", env=server.env())
    assert added.returncode == 0, added.stderr
    started = time.monotonic()
    assert seen_by_bi() == ({"Q01", "Q02"}, {"Q01", "Q02"})  # the next query, no refresh
    assert time.monotonic() - started < 5
    assert tags_cli("tag", "remove", "influencer", "Q01", env=server.env()).returncode == 0
    assert seen_by_bi() == ({"Q02"}, {"Q02"})
    assert bitmap_count() == []  # the bitmaps (audience sizes) take it with the next night

    # the next night folds the assignments in (they are stamped with the wall clock: a night as of today)
    outcome = refresh.run(dt.date.fromisoformat(str(client.command("SELECT today()"))), None, catalog.load())
    assert outcome.published, outcome.failures
    assert client.query("SELECT customer_id FROM tag_store.tag_snapshots WHERE tag_key = 'influencer' AND run_id = "
                        "(SELECT run_id FROM tags.published_run)").result_rows == [("Q02",)]
    assert seen_by_bi() == ({"Q02"}, {"Q02"}) and bitmap_count() == [(1,)]
    assert bi.command("SELECT count() FROM tags.customer_tags WHERE tag_key = 'influencer'") == 1


@pytest.mark.slow
def test_a_warehouse_built_before_the_cutoff_and_evaluated_at_upgrades_on_its_next_refresh(nightly_at_two, client):
    """The columns this change added, taken away again: the next refresh puts them back (seed re-created,
    store columns appended) instead of failing with "No such column" or "Number of columns doesn't match"."""
    # a warehouse of that time had none of the columns added since either (the intraday lane's), and appended
    # columns must come back in the model's order: the store tables are filled by position
    for table, column in [("tag_store.publish_log", "cutoff"), ("tag_store.publish_log", "lane"),
                          ("tag_store.publish_log", "tag_keys"), ("tag_store.publish_log", "refines_run_id"),
                          ("tag_store.tag_catalog_snapshots", "evaluated_at"), ("tag_store.tag_catalog_snapshots", "lane"),
                          ("catalog.tag_catalog", "evaluated_at"), ("catalog.tag_catalog", "lane")]:
        client.command(f"ALTER TABLE {table} DROP COLUMN {column}")
    outcome = refresh.run(AS_OF, None, catalog.load())
    assert outcome.published, outcome.failures
    run = {"run": outcome.run_id}
    assert client.query("SELECT cutoff FROM tag_store.publish_log WHERE run_id = %(run)s", parameters=run).result_rows == [(END,)]
    assert client.query("SELECT evaluated_at, lane FROM tag_store.tag_catalog_snapshots WHERE run_id = %(run)s "
                        "AND tag_key = 'awaiting_payment'", parameters=run).result_rows == [("cutoff", "intraday")]
