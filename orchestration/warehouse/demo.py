"""Demo data: generate the raw tables (demo_sql.py writes the SQL), or append one more day of them, or plant a
campaign with a known effect after the published night (plant_campaign).

The steps run in order inside ClickHouse, big tables in chunks of customers so progress moves.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from orchestration.relations import relation
from orchestration.warehouse import contract
from orchestration.warehouse.demo_sql import CHUNK_CUSTOMERS, DemoSql, Step


def steps(sql: DemoSql, customers: int) -> Iterator[Step]:
    """The generation steps in order; big tables come in chunks of customers so progress moves."""
    yield Step("products", "products", sql.products())
    chunks = [(lo, min(CHUNK_CUSTOMERS, customers - lo)) for lo in range(0, customers, CHUNK_CUSTOMERS)]
    per_chunk: list[tuple[str, str, Callable[[int, int], str]]] = [
        ("customers", "customers", sql.customers),
        ("orders", "orders", sql.orders),
        ("order_items", "order items", sql.order_items),
        ("events", "browsing events", sql.browsing_events),
        ("events", "emails sent", lambda lo, n: sql.email_events(lo, n, opens=False)),
        ("events", "email opens", lambda lo, n: sql.email_events(lo, n, opens=True)),
        ("events", "broadcasts sent", lambda lo, n: sql.broadcast_events(lo, n, replies=False)),
        ("events", "broadcast replies", lambda lo, n: sql.broadcast_events(lo, n, replies=True)),
        ("tickets", "tickets", sql.tickets),
        ("consents", "consents", sql.consents),
        ("manual_tag_assignments", "manual tag assignments", sql.manual_tags),
        ("identity_edges", "identity edges", sql.identity_edges),
    ]
    for table, label, make in per_chunk:
        for index, (lo, count) in enumerate(chunks, start=1):
            suffix = f" ({index}/{len(chunks)})" if len(chunks) > 1 else ""
            yield Step(table, f"{label}{suffix}", make(lo, count))


def generate(client, customers: int, seed: int, as_of: dt.date, progress=None) -> dict[str, int]:
    """Replace the raw tables with demo data; returns the row count of each raw table.

    `progress(step_label, done, total, seconds)` is called after each step.
    """
    if customers < 1:
        raise ValueError(f"--customers must be at least 1, got {customers}")
    sql = DemoSql(seed, as_of)
    contract.create_raw_tables(client)
    for table in contract.raw_tables():
        client.command(f"TRUNCATE TABLE raw.{table}")
    plan = list(steps(sql, customers))
    total = len(plan) + len(sql.dirty_rows(0))
    done = 0
    for step in plan:
        started = time.perf_counter()
        client.command(step.sql)
        done += 1
        if progress:
            progress(step.label, done, total, time.perf_counter() - started)
    orders_total = int(client.command("SELECT count() FROM raw.orders"))
    for step in sql.dirty_rows(orders_total):
        started = time.perf_counter()
        client.command(step.sql)
        done += 1
        if progress:
            progress(f"dirty rows: {step.label}", done, total, time.perf_counter() - started)
    return {table: int(client.command(f"SELECT count() FROM raw.{table}")) for table in contract.raw_tables()}


DAY_SHARE_PER_MILLE = 3  # one new day is about 0.3% of the history's orders and events


def next_day_steps(seed: int, day: dt.date) -> list[Step]:
    """One more day of activity dated `day`, appended as its own load: new orders (copies of 0.3% of the
    orders, with their items, placed during the day), the next status of the orders of the two days
    before that were awaiting payment or shipping, 0.3% of the events replayed during the day, and 0.3% of the
    customers seen with the next customer's e-mail (identity edges that join them)."""
    start = f"toDateTime('{day.isoformat()} 00:00:00')"
    end = f"{start} + toIntervalDay(1) - toIntervalSecond(1)"
    load = f"'demo-seed-{seed}-day-{day.isoformat()}', toDateTime64('{day.isoformat()} 23:59:59', 3)"
    suffix = f"'-{day.strftime('%Y%m%d')}'"
    chosen = f"cityHash64({seed}, '{day}', order_id) % 1000 < {DAY_SHARE_PER_MILLE} AND _load_id = 'demo-seed-{seed}'"
    during_day = f"{start} + toIntervalSecond(cityHash64({seed}, 'at', order_id) % 86400)"
    order_columns = ("order_id, customer_id, ordered_at, status, amount, paid_at, shipped_at, delivered_at, "
                     "completed_at, channel, _load_id, _loaded_at")
    event_columns = "customer_id, event_at, event_type, channel, campaign_id, product_category, message_id, _load_id, _loaded_at"
    return [
        Step("orders", "new orders", f"""
            INSERT INTO raw.orders ({order_columns})
            SELECT concat(order_id, {suffix}), customer_id, {during_day} AS placed,
                   if(cityHash64({seed}, 'paid', order_id) % 10 < 7, 'paid', 'pending_payment') AS new_status,
                   amount, if(new_status = 'paid', least(placed + toIntervalSecond(600), {end}), NULL),
                   NULL, NULL, NULL, channel, {load}
            FROM raw.orders WHERE {chosen} LIMIT 1 BY order_id"""),
        Step("order_items", "items of the new orders", f"""
            INSERT INTO raw.order_items (order_id, product_id, quantity, unit_price, _load_id, _loaded_at)
            SELECT concat(order_id, {suffix}), product_id, quantity, unit_price, {load}
            FROM raw.order_items
            WHERE order_id IN (SELECT order_id FROM raw.orders WHERE {chosen})"""),
        Step("orders", "orders paid or shipped today", f"""
            INSERT INTO raw.orders ({order_columns})
            SELECT order_id, customer_id, ordered_at, if(status = 'pending_payment', 'paid', 'shipped'), amount,
                   if(status = 'pending_payment', {during_day}, paid_at),
                   if(status = 'paid', greatest({during_day}, ifNull(paid_at, ordered_at)), NULL),
                   NULL, NULL, channel, {load}
            FROM (SELECT * FROM raw.orders WHERE ordered_at >= {start} - toIntervalDay(2) AND ordered_at < {start}
                  ORDER BY _loaded_at DESC LIMIT 1 BY order_id)
            WHERE status IN ('pending_payment', 'paid')"""),
        Step("events", "events of the day", f"""
            INSERT INTO raw.events ({event_columns})
            SELECT customer_id, {start} + toIntervalSecond(toSecond(event_at) + 60 * toMinute(event_at) + 3600 * toHour(event_at)),
                   event_type, channel, campaign_id, product_category,
                   if(message_id IS NULL, NULL, concat(message_id, {suffix})), {load}
            FROM raw.events
            WHERE cityHash64({seed}, '{day}', customer_id, event_at, event_type) % 1000 < {DAY_SHARE_PER_MILLE}
              AND _load_id = 'demo-seed-{seed}'"""),
        Step("identity_edges", "identity edges of the day", f"""
            INSERT INTO raw.identity_edges (id, id_type, other_id, other_id_type, seen_at, _load_id, _loaded_at)
            SELECT id, 'customer_id', concat('c', leftPad(toString(toUInt64(substring(id, 2)) + 1), 8, '0'), '@example.com'),
                   'email', {start} + toIntervalSecond(cityHash64({seed}, 'seen', id) % 86400), {load}
            FROM raw.identity_edges
            WHERE id_type = 'customer_id' AND match(id, '^C[0-9]+$') AND _load_id = 'demo-seed-{seed}'
              AND cityHash64({seed}, '{day}', id) % 1000 < {DAY_SHARE_PER_MILLE}
            LIMIT 1 BY id"""),
    ]


def append_day(client, seed: int, day: dt.date, progress=None) -> dict[str, int]:
    """Append one day of activity (next_day_steps) to the raw tables; returns the rows appended per table."""
    plan = next_day_steps(seed, day)
    for done, step in enumerate(plan, start=1):
        started = time.perf_counter()
        client.command(step.sql)
        if progress:
            progress(step.label, done, len(plan), time.perf_counter() - started)
    load_id = f"demo-seed-{seed}-day-{day.isoformat()}"
    return {table: int(client.command(f"SELECT count() FROM raw.{table} WHERE _load_id = '{load_id}'"))
            for table in sorted({s.table for s in plan})}


# The campaign the demo plants (plant_campaign): an export of this audience with this holdout, sent the morning
# after the published night, then orders over the next CAMPAIGN_WINDOW_DAYS: each member orders once with
# probability CAMPAIGN_BASE_RATE, plus CAMPAIGN_LIFT when sent to; amounts 20 plus an exponential of mean 60.
CAMPAIGN_AUDIENCE = "high_value_score"
CAMPAIGN_HOLDOUT = 0.5
CAMPAIGN_WINDOW_DAYS = 30
CAMPAIGN_BASE_RATE = 0.20
CAMPAIGN_LIFT = 0.15
CAMPAIGN_MEAN_AMOUNT = 80.0
CAMPAIGN_SENT_AT = dt.time(9, 0)


def plant_campaign(client, seed: int, audience_key: str = CAMPAIGN_AUDIENCE, lift: float = CAMPAIGN_LIFT,
                   holdout: float = CAMPAIGN_HOLDOUT):
    """Export the audience from the published night with a holdout, as sent at CAMPAIGN_SENT_AT (UTC) the day
    after its as_of, and append to raw.orders (load demo-seed-S-campaign-KEY) the orders its members place in the
    CAMPAIGN_WINDOW_DAYS after: a paid order each for a member whose draw (a seeded hash of the customer) is
    under CAMPAIGN_BASE_RATE, plus `lift` for the treated. So the planted effect is known: conversion +lift,
    revenue per customer +lift * CAMPAIGN_MEAN_AMOUNT. A refresh as of the window's last day or later brings the
    orders into staging, and `tags audience impact` measures them. Returns the export (exports.ExportResult)."""
    from orchestration.audiences import exports
    from orchestration.publishing import publish

    current = publish.current_run(client)
    if current is None:
        raise ValueError("nothing is published yet: run `tags refresh` before planting a campaign")
    sent_at = dt.datetime.combine(current[1] + dt.timedelta(days=1), CAMPAIGN_SENT_AT, tzinfo=dt.timezone.utc)
    with tempfile.TemporaryDirectory() as scratch:  # the demo keeps the export's records, not its file
        export = exports.export_audience(client, audience_key, "csv", Path(scratch) / "campaign.csv", holdout,
                                         f"demo-{seed}", exported_at=sent_at)
    sql = DemoSql(seed, current[1])
    key = "cityHash64({key:String}, customer_id)"  # a draw per audience and customer
    window_seconds = CAMPAIGN_WINDOW_DAYS * 86400
    client.command(f"""
        INSERT INTO raw.orders (order_id, customer_id, ordered_at, status, amount, paid_at, shipped_at, delivered_at,
                                completed_at, channel, _load_id, _loaded_at)
        SELECT concat('O-CAMPAIGN-', {{key:String}}, '-', customer_id), customer_id, placed, 'paid',
               toDecimal64(round(20 + {sql.exponential('campaign_amount', CAMPAIGN_MEAN_AMOUNT - 20, key)}, 2), 2),
               placed + toIntervalSecond(600), NULL, NULL, NULL, 'web',
               concat('demo-seed-{seed}-campaign-', {{key:String}}), sent_at + toIntervalSecond({window_seconds})
        FROM (
            SELECT customer_id, held_out, sent_at,
                   toDateTime(sent_at) + toIntervalSecond(toUInt32({sql.u('campaign_at', key)} * ({window_seconds} - 600))) AS placed
            FROM {relation('export_assignments')}
            CROSS JOIN (SELECT exported_at AS sent_at FROM {relation('export_log')} WHERE export_id = {{export:String}}) AS export
            WHERE export_id = {{export:String}}
              AND {sql.u('campaign_buys', key)} < {CAMPAIGN_BASE_RATE!r} + if(held_out, 0, {float(lift)!r})
        )""", parameters={"key": audience_key, "export": export.export_id})
    return export
