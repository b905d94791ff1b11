"""Incremental nightly runs: when a run must rebuild staging and features from scratch instead.

base_events and base_order_items are partitioned by load day, base_orders by the month of ordered_at;
the per-day feature models by month. A run rebuilds only the partitions whose raw rows changed
(models/staging/base/, macros/incremental/). It cannot remove a partition raw no longer has (raw
tables replaced, as `tags demo` does): then the run is a full one (`dbt build --full-refresh`, which
never empties the tag store).
"""

from __future__ import annotations

# raw table -> the partition expression of its base table, the same as in the model's config
PARTITIONED_BASE_TABLES = {
    "events": "toYYYYMMDD(_loaded_at)",
    "order_items": "toYYYYMMDD(_loaded_at)",
    "orders": "toYYYYMM(ordered_at)",
}
# every incremental model of staging and features -> its partition key as system.tables shows it
PARTITION_KEYS = {
    **{f"staging.base_{table}": key for table, key in PARTITIONED_BASE_TABLES.items()},
    "features.int_customer_daily_orders": "toYYYYMM(order_day)",
    "features.int_customer_daily_categories": "toYYYYMM(order_day)",
}


def full_rebuild_reasons(client) -> list[str]:
    """Why this run cannot be incremental: a table built before it was (another partition key), or a
    partition staging holds that raw no longer has. Empty when an incremental run is sound."""
    keys = dict(client.query("SELECT concat(database, '.', name), partition_key FROM system.tables "
                             "WHERE database IN ('staging', 'features')").result_rows)
    reasons = [f"{table} is not partitioned by {key}" for table, key in PARTITION_KEYS.items()
               if table in keys and keys[table] not in (key, f"({key})")]
    return reasons or [f"raw.{p} is gone" for p in vanished_partitions(client)]


def vanished_partitions(client) -> list[str]:
    """'<table> <partition>' for every partition staging holds that raw no longer has."""
    vanished = []
    for table, partition in PARTITIONED_BASE_TABLES.items():
        if not int(client.command(f"EXISTS TABLE staging.base_{table}")):
            continue
        rows = client.query(f"SELECT DISTINCT toString({partition}) FROM staging.base_{table} "
                            f"WHERE {partition} NOT IN (SELECT {partition} FROM raw.{table}) ORDER BY 1").result_rows
        vanished += [f"{table} {row[0]}" for row in rows]
    return vanished
