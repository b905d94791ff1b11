"""Incremental nightly runs give exactly what a full rebuild gives (the demo night's 2,000 customers; the
benchmark compares them at scale M, `make bench`).

A night appends one more day of demo activity (orders, their items, status updates, events) and runs
the nightly job incrementally; then `refresh --full` rebuilds staging and features from all of raw for the
same as_of, and every staging, feature and published table must be identical. The next night replays an
earlier as_of, which turns rows already staged into "after as_of" rejects.
"""

from __future__ import annotations

import datetime as dt

import pytest

from orchestration.catalog import catalog
from orchestration.dagster import dbt_runner, refresh
from orchestration.warehouse import demo, incremental, loader
from tests.conftest import BUILD_TIME_COLUMNS, table_checksums
from tests.integration.known import AS_OF

COMPARED_TABLES = [
    "staging.base_orders", "staging.base_order_items", "staging.base_events",
    "features.int_customer_categories",
    "features.int_customer_daily_events", "features.int_customer_messages", "features.customer_features",
    "tags.customer_tags", "tags.tag_bitmaps", "tags.customer_profile", "tags.all_customers",
    "audiences.audience_bitmaps",
    "identity.stitched_customers", "identity.identity_components",  # extended by the day's edges, then rebuilt
]


def checksums(client) -> dict[str, tuple]:
    # identity_components.stitching says how the components were made (extended, rebuilt), not what they are
    return table_checksums(client, COMPARED_TABLES, ignored=BUILD_TIME_COLUMNS | {"stitching"})


def night(client, day: dt.date, full: bool) -> refresh.RefreshOutcome:
    outcome = refresh.run(day, None, catalog.load(), full=full)
    assert outcome.success and outcome.published, outcome.failures
    return outcome


@pytest.mark.parametrize("day, appends", [
    (AS_OF + dt.timedelta(days=1), True),
    # a replay of an earlier as_of: yesterday's newest rows become "after as_of"
    pytest.param(AS_OF, False, marks=pytest.mark.slow),
])
def test_an_incremental_night_equals_a_full_rebuild(demo_night, client, day, appends):
    if appends:
        appended = demo.append_day(client, 42, day)
        assert appended["orders"] > 0 and appended["events"] > 0
    assert incremental.full_rebuild_reasons(client) == []
    before = client.command("SELECT now64(3)")

    night(client, day, full=False)

    if appends:  # only the new load day of events and items was staged again, not the history
        restaged = client.query(
            f"SELECT count(), countIf(_load_id = 'demo-seed-42-day-{day}') FROM staging.base_events "
            f"WHERE _staged_at >= '{before}'").result_rows[0]
        assert restaged[0] == restaged[1] == appended["events"]
        # the day's identity edges were stitched onto the last night's components, not the whole graph again
        assert appended["identity_edges"] > 0
        assert client.command("SELECT any(stitching) FROM identity.identity_components") == "extended"
    incremental_result = checksums(client)

    night(client, day, full=True)

    assert checksums(client) == incremental_result


@pytest.mark.slow
def test_raw_replaced_by_other_data_leaves_nothing_behind(demo_night, client):
    """Other customers, months and load day: the partitions raw no longer has are dropped, not kept."""
    demo.generate(client, 500, 7, AS_OF - dt.timedelta(days=40))
    night(client, AS_OF - dt.timedelta(days=40), full=False)  # its dbt tests check base rows = raw rows

    assert client.command("SELECT count() FROM features.customer_features") == 500
    for table in ("orders", "order_items", "events"):
        assert client.command(f"SELECT count() FROM staging.base_{table}") == client.command(f"SELECT count() FROM raw.{table}")
    newest_day = client.command("SELECT max(toDate(ordered_at)) FROM staging.stg_orders")
    assert str(newest_day) <= str(AS_OF - dt.timedelta(days=40))


def test_an_item_loaded_before_its_order_is_staged_when_the_order_arrives(demo_night, client, tmp_path):
    """An incremental run stages again the items rejected as 'unknown order_id' whose order has been loaded
    since (base_order_items' partitions to recheck), though their own load day did not change."""
    day = AS_OF + dt.timedelta(days=1)
    customer = client.command("SELECT min(customer_id) FROM staging.stg_customers")
    product = client.command("SELECT min(product_id) FROM staging.stg_products")

    def load(name: str, content: str) -> None:
        folder = tmp_path / name
        folder.mkdir()
        (folder / f"{name}.csv").write_text(content)
        loader.load(client, folder)

    def verdict() -> list[tuple]:
        dbt_runner.run("run", day, select=["base_orders", "base_order_items"])
        return client.query("SELECT reject_reason, count() FROM staging.base_order_items "
                            "WHERE order_id = 'LATE-ORDER' GROUP BY reject_reason").result_rows

    load("order_items", f"order_id,product_id,quantity,unit_price\nLATE-ORDER,{product},2,5.00\n")
    assert verdict() == [("unknown order_id", 1)]

    load("orders", "order_id,customer_id,ordered_at,status,amount,paid_at,shipped_at,delivered_at,completed_at,channel\n"
                   f"LATE-ORDER,{customer},{AS_OF} 10:00:00,paid,10.00,{AS_OF} 10:05:00,,,,web\n")
    assert verdict() == [("", 1)]


def test_a_table_partitioned_otherwise_makes_the_night_a_full_one(demo_night, client):
    client.command("CREATE TABLE staging.base_orders_old ENGINE = MergeTree ORDER BY tuple() "
                   "AS SELECT * FROM staging.base_orders")
    client.command("EXCHANGE TABLES staging.base_orders AND staging.base_orders_old")
    assert incremental.full_rebuild_reasons(client) == [
        "staging.base_orders is not partitioned by toYYYYMM(ordered_at)"]
