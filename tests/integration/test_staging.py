"""Staging on generated demo data: every raw row is staged or rejected, each dirty row for its reason."""

from __future__ import annotations

import datetime as dt

import pytest

from orchestration.dagster import dbt_runner
from orchestration.quality import accounting
from orchestration.warehouse import contract
from orchestration.warehouse import demo

AS_OF = dt.date(2026, 11, 23)
CUSTOMERS = 2_000


@pytest.fixture(scope="module")
def built(client):
    counts = demo.generate(client, CUSTOMERS, seed=7, as_of=AS_OF)
    dbt_runner.run("build", AS_OF, ["staging", "identity"])  # staging keys rows by the stitched customer
    return counts


def reasons_by_marker(client, table: str, key: str, marker: str) -> set[str]:
    return {r for (r,) in client.query(
        f"SELECT DISTINCT reject_reason FROM staging.stg_{table}_rejects WHERE endsWith({key}, '{marker}')").result_rows}


def test_demo_has_realistic_shapes(client, built):
    assert built["customers"] == CUSTOMERS
    assert 10 * CUSTOMERS < built["orders"] < 30 * CUSTOMERS  # about 20 orders a customer
    assert 2 * built["orders"] < built["order_items"] < 4 * built["orders"]
    median, top = client.query(
        "SELECT quantileExact(0.5)(c), max(c) FROM (SELECT customer_id, count() c FROM raw.orders GROUP BY customer_id)"
    ).result_rows[0]
    assert top > 5 * median  # heavy-tailed order counts
    shares = dict(client.query(
        "SELECT p.category, count() / (SELECT count() FROM raw.order_items) FROM raw.order_items i "
        "JOIN raw.products p USING product_id GROUP BY p.category").result_rows)
    assert shares["fashion"] > 4 * shares["pets"]  # skewed category shares
    kinds = {k for (k,) in client.query("SELECT DISTINCT event_type FROM raw.events").result_rows}
    assert {"message_sent", "message_reply", "email_open", "pricing_page_view", "enquiry"} <= kinds
    assert client.command("SELECT countIf(NOT granted) FROM raw.consents") > 0


def test_every_dirty_row_is_rejected_with_its_reason(client, built):
    assert reasons_by_marker(client, "orders", "order_id", "-NULL") == {"amount is null"}
    assert reasons_by_marker(client, "orders", "order_id", "-NEG") == {"amount is negative"}
    assert reasons_by_marker(client, "orders", "order_id", "-FUT") == {"ordered_at is after as_of"}
    assert reasons_by_marker(client, "orders", "order_id", "-ORPHAN") == {"unknown customer_id"}
    assert reasons_by_marker(client, "order_items", "order_id", "-MISSING") == {"unknown order_id"}
    for table, marker in [("orders", "-NULL"), ("orders", "-NEG"), ("orders", "-FUT"), ("orders", "-ORPHAN"),
                          ("order_items", "-MISSING")]:
        assert client.command(f"SELECT count() FROM staging.stg_{table} WHERE endsWith(order_id, '{marker}')") == 0
        assert client.command(f"SELECT count() FROM staging.stg_{table}_rejects WHERE endsWith(order_id, '{marker}')") >= 3
    future_events = client.command(f"SELECT count() FROM raw.events WHERE event_at >= toDate('{AS_OF}') + 1")
    assert future_events >= 3
    assert client.command("SELECT count() FROM staging.stg_events_rejects WHERE reject_reason = 'event_at is after as_of'") == future_events


def test_duplicates_keep_the_latest_version(client, built):
    # the stale 'paid' copies were loaded a day earlier than the completed originals
    stale = client.query(
        "SELECT order_id FROM raw.orders GROUP BY order_id HAVING countIf(status = 'paid') > 0 AND countIf(status = 'completed') > 0"
    ).result_rows
    assert len(stale) >= 3
    for (order_id,) in stale:
        assert client.command(f"SELECT status FROM staging.stg_orders WHERE order_id = '{order_id}'") == "completed"
        assert client.command(f"SELECT reject_reason FROM staging.stg_orders_rejects WHERE order_id = '{order_id}'") == \
            "superseded by a later version of the same order_id"
    assert client.command("SELECT count() - uniqExact(order_id) FROM staging.stg_orders") == 0
    exact_copies = client.command("SELECT count() - (SELECT count() FROM (SELECT DISTINCT * FROM raw.orders)) FROM raw.orders")
    assert exact_copies >= 3


def test_staged_plus_rejected_equals_raw_for_every_table(client, built):
    accounts = accounting.accounts(client)
    assert [a.table for a in accounts] == list(contract.raw_tables())
    for account in accounts:
        assert account.raw > 0, account.table
        assert account.staged + account.rejected == account.raw, account


def test_dbt_tests_ran_and_guard_the_accounting(client, built):
    # row_count_equals on each base model is part of `dbt build`; break it and it must fail.
    client.command("INSERT INTO raw.products (product_id, category, brand, list_price) VALUES ('PX', 'pets', 'b', 1)")
    with pytest.raises(dbt_runner.DbtFailed, match="row_count_equals_base_products"):
        dbt_runner.run("test", AS_OF, ["base_products"])
    dbt_runner.run("build", AS_OF, ["base_products"])  # rebuilding restores the balance


def test_base_tables_are_not_merged_in_the_background_and_the_part_log_shows_their_parts(client, built):
    """A night writes them whole (or by partition) and reads them the same night: merging their parts took the 2
    cores from it (dbt_project.yml). The warehouse's part log is where a night's merges are read per table."""
    engines = dict(client.query("SELECT name, engine_full FROM system.tables WHERE database = 'staging'").result_rows)
    for table in contract.raw_tables():
        assert "max_bytes_to_merge_at_max_space_in_pool = 0" in engines[f"base_{table}"], engines[f"base_{table}"]
    client.command("SYSTEM FLUSH LOGS")
    assert client.command("SELECT count() FROM system.part_log WHERE database = 'staging' AND startsWith(table, 'base_') "
                          "AND event_type = 'NewPart'") > 0


def test_same_seed_gives_the_same_raw_data(client, built):
    def checksums() -> dict[str, int]:
        return {t: client.command(f"SELECT sum(cityHash64(*)) FROM raw.{t}") for t in contract.raw_tables()}

    demo.generate(client, CUSTOMERS, seed=7, as_of=AS_OF)
    first = checksums()
    demo.generate(client, CUSTOMERS, seed=7, as_of=AS_OF)
    assert checksums() == first
    demo.generate(client, CUSTOMERS, seed=8, as_of=AS_OF)
    assert checksums()["orders"] != first["orders"]
