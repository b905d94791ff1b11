"""The peer: our staging, feature mart and rule tags written as DuckDB SQL over the raw tables in Parquet.

The same contract rules (rejects, latest version wins), the same windows and the same catalog rules
(their ClickHouse text with the params filled in; the one rule using ClickHouse map functions,
`interest`, is written out by hand). Consent features are left out: no rule tag reads them.
`run()` returns the members of every rule tag, so the benchmark can check both engines agree.
Customers are stitched customers in both: which account belongs to which customer is an input here
(merged_accounts.parquet, written from our identity.stitched_customers beside the raw tables), so the
peer computes the same staging, features and tags, not the identity graph.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from orchestration.catalog import catalog

RAW_TABLES = ["customers", "orders", "order_items", "products", "events", "tickets"]
MERGED_ACCOUNTS = "merged_accounts"  # customer_id, stitched_customer_id of the accounts stitched into another
WINDOWS = [30, 60, 90, 180, 365]
HAND_WRITTEN_RULES = {"interest": "interest_top"}  # computed in the mart below


def mart_sql(parquet: Path, as_of: dt.date) -> list[str]:
    d = f"DATE '{as_of.isoformat()}'"
    end = f"(TIMESTAMP '{as_of.isoformat()}' + INTERVAL 1 DAY)"

    def raw(table: str) -> str:
        return f"read_parquet('{parquet / (table + '.parquet')}')"

    merged = f"read_parquet('{parquet / (MERGED_ACCOUNTS + '.parquet')}')"

    def stitched(rows: str) -> str:
        """The rows with customer_id replaced by the account's stitched customer."""
        return (f"SELECT r.* REPLACE (coalesce(m.stitched_customer_id, r.customer_id) AS customer_id) "
                f"FROM ({rows}) r LEFT JOIN {merged} m ON m.customer_id = r.customer_id")

    latest_orders = f"""SELECT * EXCLUDE (rn), CAST(ordered_at AS DATE) AS day FROM (
            SELECT *, row_number() OVER (PARTITION BY order_id ORDER BY _loaded_at DESC,
                greatest(ordered_at, coalesce(paid_at, ordered_at), coalesce(shipped_at, ordered_at),
                         coalesce(delivered_at, ordered_at), coalesce(completed_at, ordered_at)) DESC) AS rn
            FROM {raw('orders')}
            WHERE order_id <> ''
              AND status IN ('pending_payment', 'paid', 'shipped', 'delivered', 'completed', 'cancelled', 'refunded')
              AND amount IS NOT NULL AND amount >= 0 AND ordered_at < {end}
              AND customer_id IN (SELECT customer_id FROM {raw('customers')}))
        WHERE rn = 1"""
    accepted_events = f"""SELECT * FROM {raw('events')}
        WHERE event_type IN ('page_view', 'pricing_page_view', 'add_to_cart', 'email_sent', 'email_open',
                             'message_sent', 'message_reply', 'enquiry')
          AND NOT (event_type IN ('message_sent', 'message_reply') AND message_id IS NULL)
          AND event_at < {end}
          AND customer_id IN (SELECT customer_id FROM {raw('customers')})"""
    latest_tickets = f"""SELECT * EXCLUDE (rn) FROM (
            SELECT *, row_number() OVER (PARTITION BY ticket_id ORDER BY _loaded_at DESC, coalesce(resolved_at, opened_at) DESC) AS rn
            FROM {raw('tickets')}
            WHERE ticket_id <> '' AND kind IN ('complaint', 'question', 'urgent') AND opened_at < {end}
              AND NOT coalesce(resolved_at < opened_at, false)
              AND customer_id IN (SELECT customer_id FROM {raw('customers')}))
        WHERE rn = 1"""
    windows = ",\n".join(
        f"count(*) FILTER (WHERE day >= {d} - {n}) AS orders_{n}d, "
        f"round(coalesce(sum(amount) FILTER (WHERE day >= {d} - {n}), 0), 2) AS spend_{n}d" for n in WINDOWS)
    return [
        f"""CREATE OR REPLACE TABLE stg_customers AS
        SELECT * EXCLUDE (rn) FROM (
            SELECT *, row_number() OVER (PARTITION BY customer_id ORDER BY _loaded_at DESC, signup_at DESC) AS rn
            FROM {raw('customers')} WHERE customer_id <> '' AND signup_at < {end}) WHERE rn = 1
          AND customer_id NOT IN (SELECT customer_id FROM {merged})""",
        f"""CREATE OR REPLACE TABLE stg_products AS
        SELECT * EXCLUDE (rn) FROM (
            SELECT *, row_number() OVER (PARTITION BY product_id ORDER BY _loaded_at DESC, list_price DESC) AS rn
            FROM {raw('products')} WHERE product_id <> '' AND category <> '' AND NOT coalesce(list_price < 0, false))
        WHERE rn = 1""",
        f"CREATE OR REPLACE TABLE stg_orders AS {stitched(latest_orders)}",
        f"""CREATE OR REPLACE TABLE stg_order_items AS
        SELECT * FROM {raw('order_items')}
        WHERE quantity > 0 AND unit_price IS NOT NULL AND unit_price >= 0
          AND order_id IN (SELECT order_id FROM {raw('orders')})
          AND product_id IN (SELECT product_id FROM {raw('products')})""",
        f"CREATE OR REPLACE TABLE stg_events AS {stitched(accepted_events)}",
        f"CREATE OR REPLACE TABLE stg_tickets AS {stitched(latest_tickets)}",
        f"""CREATE OR REPLACE TABLE customer_features AS
        WITH counted AS (
            SELECT * FROM stg_orders WHERE status IN ('paid', 'shipped', 'delivered', 'completed')
        ),
        order_features AS (
            SELECT customer_id, {windows},
                   count(*) AS orders_total, round(sum(amount), 2) AS spend_total,
                   coalesce(max(amount) FILTER (WHERE day >= {d} - 365), 0) AS max_order_amount_365d,
                   min(ordered_at) AS first_order_at, max(ordered_at) AS last_order_at,
                   max(completed_at) AS last_completed_at
            FROM counted GROUP BY customer_id
        ),
        category_totals AS (
            SELECT o.customer_id, p.category, sum(i.quantity) AS items, count(DISTINCT i.order_id) AS orders
            FROM stg_order_items i JOIN counted o USING (order_id) JOIN stg_products p USING (product_id)
            GROUP BY ALL
        ),
        category_features AS (
            SELECT customer_id, first(category ORDER BY items DESC, category) AS top_category,
                   max(items) / sum(items) AS top_category_share
            FROM category_totals GROUP BY customer_id
        ),
        enquiries AS (
            SELECT customer_id, product_category AS category, count(*) AS enquiries
            FROM stg_events
            WHERE event_type = 'enquiry' AND product_category IS NOT NULL AND CAST(event_at AS DATE) >= {d} - 90
            GROUP BY ALL
        ),
        interest AS (
            SELECT customer_id, if(max(signals) >= {{min_signals}}, first(category ORDER BY signals DESC, category), '') AS interest_top
            FROM (SELECT customer_id, category, coalesce(t.orders, 0) + coalesce(e.enquiries, 0) AS signals
                  FROM category_totals t FULL JOIN enquiries e USING (customer_id, category))
            GROUP BY customer_id
        ),
        event_features AS (
            SELECT customer_id, count(*) FILTER (WHERE event_type = 'pricing_page_view' AND CAST(event_at AS DATE) >= {d} - 30)
                   AS pricing_page_views_30d
            FROM stg_events GROUP BY customer_id
        ),
        messages AS (
            SELECT customer_id, message_id,
                   if(count(*) FILTER (WHERE event_type = 'email_sent') > 0, 'email', 'message') AS kind,
                   min(event_at) FILTER (WHERE event_type IN ('message_sent', 'email_sent')) AS sent_at,
                   coalesce(bool_or(campaign_id IS NOT NULL) FILTER (WHERE event_type IN ('message_sent', 'email_sent')), false) AS is_campaign,
                   min(event_at) FILTER (WHERE event_type IN ('message_reply', 'email_open')) AS responded_at
            FROM stg_events
            WHERE event_type IN ('message_sent', 'message_reply', 'email_sent', 'email_open') AND message_id IS NOT NULL
            GROUP BY ALL
        ),
        message_features AS (
            SELECT customer_id,
                   count(*) FILTER (WHERE kind = 'message') AS messages_sent_90d,
                   count(*) FILTER (WHERE kind = 'message' AND responded_at IS NOT NULL) AS replies_90d,
                   coalesce(count(*) FILTER (WHERE kind = 'message' AND is_campaign AND responded_at IS NOT NULL)
                            / nullif(count(*) FILTER (WHERE kind = 'message' AND is_campaign), 0), 0) AS broadcast_reply_rate_90d,
                   coalesce(count(*) FILTER (WHERE kind = 'message' AND responded_at <= sent_at + INTERVAL 7 DAY)
                            / nullif(count(*) FILTER (WHERE kind = 'message'), 0), 0) AS reply_rate_7d,
                   coalesce(count(*) FILTER (WHERE kind = 'message' AND responded_at <= sent_at + INTERVAL 24 HOUR)
                            / nullif(count(*) FILTER (WHERE kind = 'message'), 0), 0) AS replied_within_24h_rate,
                   count(*) FILTER (WHERE kind = 'email') AS emails_sent_90d,
                   coalesce(count(*) FILTER (WHERE kind = 'email' AND responded_at IS NOT NULL)
                            / nullif(count(*) FILTER (WHERE kind = 'email'), 0), 0) AS email_open_rate_90d,
                   coalesce(arg_max(CAST(responded_at IS NOT NULL AS INTEGER),
                                    epoch_us(sent_at) * 2 + CAST(responded_at IS NOT NULL AS INTEGER))
                            FILTER (WHERE kind = 'message' AND is_campaign), 0) AS last_campaign_responded
            FROM messages WHERE sent_at IS NOT NULL AND CAST(sent_at AS DATE) >= {d} - 90
            GROUP BY customer_id
        ),
        open_orders AS (
            SELECT customer_id,
                   bool_or(status = 'pending_payment' AND ordered_at < {end} - INTERVAL 1 HOUR)::INTEGER AS has_order_awaiting_payment,
                   bool_or(status = 'paid' AND paid_at >= {end} - INTERVAL 24 HOUR)::INTEGER AS has_order_paid_awaiting_shipment,
                   bool_or(status = 'shipped')::INTEGER AS has_order_in_transit
            FROM stg_orders WHERE status IN ('pending_payment', 'paid', 'shipped') GROUP BY customer_id
        ),
        ticket_features AS (
            SELECT customer_id,
                   count(*) FILTER (WHERE kind = 'complaint' AND (resolved_at IS NULL OR resolved_at >= {end})) AS open_complaints,
                   count(*) FILTER (WHERE kind = 'complaint' AND resolved_at < {end}
                                    AND CAST(resolved_at AS DATE) >= {d} - 30) AS complaints_resolved_30d,
                   count(*) FILTER (WHERE kind = 'urgent' AND (resolved_at IS NULL OR resolved_at >= {end})) AS open_urgent_tickets
            FROM stg_tickets GROUP BY customer_id
        )
        SELECT c.customer_id, c.source_channel, c.country, c.member_tier, c.segment,
               CASE WHEN c.birth_year IS NULL THEN 'unknown'
                    WHEN year({d}) - c.birth_year < 25 THEN '<25' WHEN year({d}) - c.birth_year < 35 THEN '25-34'
                    WHEN year({d}) - c.birth_year < 45 THEN '35-44' WHEN year({d}) - c.birth_year < 55 THEN '45-54'
                    ELSE '55+' END AS age_band,
               {d} - CAST(o.first_order_at AS DATE) AS days_since_first_order,
               {d} - CAST(o.last_order_at AS DATE) AS days_since_last_order,
               {", ".join(f"coalesce(o.orders_{n}d, 0) AS orders_{n}d, coalesce(o.spend_{n}d, 0) AS spend_{n}d" for n in WINDOWS)},
               coalesce(o.orders_total, 0) AS orders_total, coalesce(o.spend_total, 0) AS spend_total,
               coalesce(o.max_order_amount_365d, 0) AS max_order_amount_365d,
               coalesce(cf.top_category, '') AS top_category, coalesce(cf.top_category_share, 0) AS top_category_share,
               coalesce(i.interest_top, '') AS interest_top,
               coalesce(oo.has_order_awaiting_payment, 0) AS has_order_awaiting_payment,
               coalesce(oo.has_order_paid_awaiting_shipment, 0) AS has_order_paid_awaiting_shipment,
               coalesce(oo.has_order_in_transit, 0) AS has_order_in_transit,
               {d} - CAST(o.last_completed_at AS DATE) AS days_since_last_completed,
               coalesce(m.messages_sent_90d, 0) AS messages_sent_90d, coalesce(m.replies_90d, 0) AS replies_90d,
               coalesce(m.broadcast_reply_rate_90d, 0) AS broadcast_reply_rate_90d,
               coalesce(m.reply_rate_7d, 0) AS reply_rate_7d, coalesce(m.replied_within_24h_rate, 0) AS replied_within_24h_rate,
               coalesce(m.emails_sent_90d, 0) AS emails_sent_90d, coalesce(m.email_open_rate_90d, 0) AS email_open_rate_90d,
               coalesce(e.pricing_page_views_30d, 0) AS pricing_page_views_30d,
               coalesce(t.open_complaints, 0) AS open_complaints, coalesce(t.complaints_resolved_30d, 0) AS complaints_resolved_30d,
               coalesce(t.open_urgent_tickets, 0) AS open_urgent_tickets,
               coalesce(m.last_campaign_responded, 0) AS last_campaign_responded
        FROM stg_customers c
        LEFT JOIN order_features o USING (customer_id) LEFT JOIN category_features cf USING (customer_id)
        LEFT JOIN interest i USING (customer_id) LEFT JOIN event_features e USING (customer_id)
        LEFT JOIN message_features m USING (customer_id) LEFT JOIN open_orders oo USING (customer_id)
        LEFT JOIN ticket_features t USING (customer_id)""",
    ]


def rule_tags() -> list[catalog.CatalogRow]:
    return [r for r in catalog.load() if r.method == "rule" and r.status != "archived"]


def rule_sql(row: catalog.CatalogRow) -> str:
    """The tag's rule with its params filled in, as DuckDB reads it."""
    if row.tag_key in HAND_WRITTEN_RULES:
        return HAND_WRITTEN_RULES[row.tag_key]
    return catalog.render_rule(row)


def tags_sql() -> str:
    """One table of every rule tag: tag_key, customer_id, tag_value."""
    parts = []
    for row in rule_tags():
        rule = rule_sql(row)
        if row.value_type == "flag":
            parts.append(f"SELECT '{row.tag_key}' AS tag_key, customer_id, '1' AS tag_value FROM customer_features "
                         f"WHERE coalesce(CAST(({rule}) AS BOOLEAN), false)")
        else:
            parts.append(f"SELECT '{row.tag_key}', customer_id, CAST(({rule}) AS VARCHAR) FROM customer_features "
                         f"WHERE coalesce(CAST(({rule}) AS VARCHAR), '') <> ''")
    return "CREATE OR REPLACE TABLE customer_tags AS\n" + "\nUNION ALL\n".join(parts)


def run(parquet: Path, as_of: dt.date) -> dict[str, int]:
    """Build staging, the mart and the rule tags in a fresh in-memory DuckDB; members per rule tag."""
    import duckdb

    interest = next(r for r in rule_tags() if r.tag_key == "interest")
    # Without the icu extension, times are UTC like the warehouse. DuckDB spills beside the Parquet files, and at most
    # what leaves 10 GiB of the disk free: at 5 M customers its spill filled the disk the warehouse lives on. No table
    # here needs its rows in insertion order (only counts are read), and keeping it costs DuckDB memory on big builds.
    spill = parquet.parent / "duckdb_spill"
    room = max(shutil.disk_usage(parquet).free - 10 * 2**30, 2**30)
    connection = duckdb.connect(config={"threads": 2, "temp_directory": str(spill),
                                        "max_temp_directory_size": f"{room // 2**20}MiB",
                                        "preserve_insertion_order": False})
    for statement in mart_sql(parquet, as_of):
        connection.execute(statement.replace("{min_signals}", catalog.render_value(interest.params["min_signals"])))
    connection.execute(tags_sql())
    members = dict(connection.execute("SELECT tag_key, count(*) FROM customer_tags GROUP BY tag_key").fetchall())
    connection.close()
    return {row.tag_key: members.get(row.tag_key, 0) for row in rule_tags()}
