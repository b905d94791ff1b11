"""The intraday lane: a payment loaded in the morning reaches BI with the lane's next run, while every other tag stays
on the published night; a failed check publishes nothing; the next night takes over."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from orchestration.catalog import catalog
from orchestration.dagster import refresh
from orchestration.warehouse import loader
from tests.integration.known import AS_OF, END, customer, load_raw

HOUR = dt.timedelta(hours=1)
TICK = END + 2 * HOUR  # the nightly run's cutoff: 02:00 the morning after AS_OF
ORDERS_HEADER = "order_id,customer_id,ordered_at,status,amount,paid_at,shipped_at,delivered_at,completed_at,channel\n"
LANE = ["awaiting_payment", "complaint_open", "paid_awaiting_shipment", "urgent_ticket"]


def pending(order_id: str, at: dt.datetime) -> list:
    return [order_id, order_id, at, "pending_payment", Decimal("100.00"), None, None, None, None, "web"]


ORDERS = [pending("PAYS-AT-0900", END - 3 * HOUR), pending("STAYS-UNPAID", END - 5 * HOUR)]
QUIET = [f"Q{n:02d}" for n in range(40)]  # no open order: the lane's coverage stays in the catalog's range


def load_batch(client, tmp_path, name: str, rows: list[str]) -> None:
    """A micro-batch of order versions through `tags load`'s loader, the way the inbox loads one."""
    batch = tmp_path / name
    batch.mkdir()
    (batch / "orders.csv").write_text(ORDERS_HEADER + "".join(f"{row}\n" for row in rows))
    loader.load(client, batch)


def members(client, view: str, tag_key: str) -> set[str]:
    if view == "customer_profile":
        query = f"SELECT customer_id FROM tags.customer_profile WHERE {tag_key} = 1"
    else:
        query = f"SELECT customer_id FROM tags.customer_tags WHERE tag_key = '{tag_key}'"
    return {row[0] for row in client.query(query).result_rows}


def nightly_rows(client) -> list[tuple]:
    """Every row BI shows of the tags outside the lane."""
    return sorted(client.query("SELECT customer_id, tag_key, tag_value FROM tags.customer_tags "
                               "WHERE tag_key NOT IN %(lane)s", parameters={"lane": LANE}).result_rows)


@pytest.fixture(scope="module")
def night(client):
    """The night of AS_OF, published at 02:00, and what BI showed then."""
    load_raw(client, customers=[customer(c) for c in ["PAYS-AT-0900", "STAYS-UNPAID", "ORDERS-AT-0800", *QUIET]],
             products=[["P", "fashion", "b", Decimal("1")]],
             orders=ORDERS)
    outcome = refresh.run(AS_OF, None, catalog.load(), cutoff=TICK)
    assert outcome.published, outcome.failures
    return {"run_id": outcome.run_id, "rows": nightly_rows(client)}


@pytest.fixture(scope="module")
def morning(night, client, tmp_path_factory):
    """A payment at 09:00 and an order at 08:00 loaded, then the intraday lane run at 10:00."""
    tmp = tmp_path_factory.mktemp("batches")
    load_batch(client, tmp, "0900", [
        f"PAYS-AT-0900,PAYS-AT-0900,{END - 3 * HOUR},paid,100.00,{END + 9 * HOUR},,,,web",
        f"ORDER-0800,ORDERS-AT-0800,{END + 8 * HOUR},pending_payment,40.00,,,,,web",
    ])
    as_of, outcome = refresh.run_intraday(END + 10 * HOUR)
    assert as_of == AS_OF and outcome.published, outcome.failures
    return outcome


def test_the_night_at_0200_shows_both_orders_unpaid(night, client):
    assert members(client, "customer_tags", "awaiting_payment") == {"PAYS-AT-0900", "STAYS-UNPAID"}


def test_bi_sees_the_payment_after_the_lanes_run_and_the_nightly_tags_stay_on_their_run(night, morning, client, server):
    import clickhouse_connect

    from orchestration.warehouse import bi_access
    from tests.conftest import BI_TEST_PASSWORD

    bi = clickhouse_connect.get_client(host="127.0.0.1", port=server.http_port, username=bi_access.BI_USER,
                                       password=BI_TEST_PASSWORD, autogenerate_session_id=False)
    # paid at 09:00: no longer awaiting payment, now paid awaiting shipment; the 08:00 order is unpaid for 2 hours
    for view in ("customer_tags", "customer_profile"):
        assert members(bi, view, "awaiting_payment") == {"STAYS-UNPAID", "ORDERS-AT-0800"}
        assert members(bi, view, "paid_awaiting_shipment") == {"PAYS-AT-0900"}
    assert dict(bi.query("SELECT tag_key, member_count FROM tags.tag_bitmaps WHERE tag_key IN "
                         "('awaiting_payment', 'paid_awaiting_shipment')").result_rows) == {
        "awaiting_payment": 2, "paid_awaiting_shipment": 1}
    # every other tag is the night's, from the night's run
    assert nightly_rows(bi) == night["rows"]
    lanes = {row[0]: row[1:] for row in bi.query(
        "SELECT lane, as_of, run_id, cutoff, tag_keys FROM tags.published_lanes").result_rows}
    assert lanes == {"nightly": (AS_OF, night["run_id"], TICK, []),
                     "intraday": (AS_OF, morning.run_id, END + 10 * HOUR, LANE)}
    assert bi.query("SELECT run_id FROM tags.published_run").result_rows == [(night["run_id"],)]
    # the lane's checks ran, on its tags alone, and passed
    checked = client.query("SELECT DISTINCT tag_key FROM quality.check_results WHERE run_id = %(r)s",
                           parameters={"r": morning.run_id}).result_rows
    assert sorted(row[0] for row in checked) == LANE and all(check.passed for check in morning.checks)


def test_a_failed_blocking_check_publishes_nothing(morning, client, tmp_path):
    # 30 of the 44 customers with an order unpaid for an hour: awaiting_payment's coverage (at most 20 %) fails
    load_batch(client, tmp_path, "flood", [f"FLOOD-{c},{c},{END + 9 * HOUR},pending_payment,5.00,,,,,web"
                                           for c in QUIET[:30]])
    shown = members(client, "customer_tags", "awaiting_payment")
    as_of, outcome = refresh.run_intraday(END + 11 * HOUR)
    assert not outcome.success and not outcome.published
    assert any("quality__awaiting_payment__coverage" in failure for failure in outcome.failures), outcome.failures
    assert members(client, "customer_tags", "awaiting_payment") == shown
    assert client.command("SELECT run_id FROM tags.published_lanes WHERE lane = 'intraday'") == morning.run_id


def test_the_sensor_runs_the_lane_once_per_new_load(morning, client, tmp_path):
    import dagster as dg

    from orchestration.dagster import instance as dagster_instance
    from orchestration.dagster.definitions import defs
    from orchestration.dagster.partitions import CUTOFF_TAG

    def tick():
        with dagster_instance.instance() as instance:
            return defs.resolve_sensor_def("intraday_loads").evaluate_tick(dg.build_sensor_context(
                instance=instance, repository_def=defs.get_repository_def()))

    # the flood of the test above was loaded after the last successful run began: a run, evaluated now
    [request] = tick().run_requests
    assert request.partition_key == AS_OF.isoformat() and request.tags[CUTOFF_TAG] > f"{END + 11 * HOUR}"
    flood = client.command("SELECT load_id FROM raw.load_log WHERE state = 'committed' ORDER BY at DESC LIMIT 1")
    assert request.run_key == flood  # once per newest load: a run that failed on it is not repeated until the next
    load_batch(client, tmp_path, "1200", [f"ORDER-1200,Q35,{END + 12 * HOUR},pending_payment,9.00,,,,,web"])
    assert tick().run_requests[0].run_key != flood
    client.command("TRUNCATE TABLE raw.load_log")  # as if nothing had been loaded since the last run
    assert "nothing was loaded into orders or tickets since the last run began" in tick().skip_message


@pytest.mark.slow
def test_the_next_night_takes_over_and_clears_the_lanes_runs(morning, client):
    next_night = refresh.run(AS_OF + dt.timedelta(days=1), None, catalog.load(), cutoff=TICK + 24 * HOUR)
    assert next_night.published, next_night.failures
    assert client.query("SELECT lane, run_id FROM tags.published_lanes").result_rows == [("nightly", next_night.run_id)]
    assert client.command("SELECT count() FROM tag_store.tag_snapshots WHERE run_id = %(r)s",
                          parameters={"r": morning.run_id}) == 0
