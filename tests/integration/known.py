"""Building blocks of hand-built raw rows whose right answers are known (rows in the raw contract's order)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from orchestration.warehouse import contract

AS_OF = dt.date(2026, 11, 23)
END = dt.datetime(2026, 11, 24)  # end of the as_of day


def days_ago(days: int, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(AS_OF - dt.timedelta(days=days), dt.time(hour))


def customer(customer_id, country="DE", source="instagram_ad", tier="none", birth_year=1990, segment="consumer"):
    return [customer_id, dt.datetime(2024, 1, 1), country, "Berlin", source, tier, birth_year, segment, None, None, None]


def order(order_id, customer_id, at, status="completed", amount="100.00"):
    """An order; a completed one was paid 5 minutes and completed 2 days after it was placed."""
    completed = at + dt.timedelta(days=2) if status == "completed" else None
    paid = at + dt.timedelta(minutes=5) if status not in ("pending_payment", "cancelled") else None
    return [order_id, customer_id, at, status, Decimal(amount), paid, None, None, completed, "web"]


def message(customer_id, sent: dt.datetime, reply_after: dt.timedelta | None, campaign="BC-1", kind="message"):
    """A message (or email) we sent, and the customer's reply (or open) after reply_after, if any."""
    message_id = f"{customer_id}-{sent.isoformat()}"
    sent_type, reply_type = ("message_sent", "message_reply") if kind == "message" else ("email_sent", "email_open")
    rows = [[customer_id, sent, sent_type, "whatsapp", campaign, None, message_id]]
    if reply_after is not None:
        rows.append([customer_id, sent + reply_after, reply_type, "whatsapp", campaign, None, message_id])
    return rows


def load_raw(client, **tables: list[list]) -> None:
    """Create the raw tables, empty them, and insert the given rows (each table's required columns)."""
    contract.create_raw_tables(client)
    for table in contract.raw_tables():
        client.command(f"TRUNCATE TABLE raw.{table}")
    for table, rows in tables.items():
        if rows:
            columns = [c.name for c in contract.raw_tables()[table].required]
            client.insert(f"raw.{table}", rows, column_names=columns)
