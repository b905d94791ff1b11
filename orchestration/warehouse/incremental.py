"""Incremental nightly runs: when a run must rebuild staging and features from scratch instead.

base_events and base_order_items are partitioned by load day, base_orders by the month of ordered_at;
a run rebuilds only the partitions whose raw rows changed and drops
those raw no longer has (models/staging/base/, macros/incremental/). A table built before it was
partitioned so (an older version of this project) cannot be extended: then the run is a full one
(`dbt build --full-refresh`, which never empties the tag store).
"""

from __future__ import annotations

from orchestration import relations


def partition_keys() -> dict[str, str]:
    """Every partitioned incremental model of staging and features -> its partition key, from the dbt manifest."""
    return {relations.relation(node["name"]): node["config"]["partition_by"]
            for schema in ("staging", "features") for node in relations.models(schema, "incremental")
            if node["config"].get("partition_by")}


def full_rebuild_reasons(client) -> list[str]:
    """Why this run cannot be incremental: a table partitioned otherwise than its model says. Empty when
    an incremental run is sound."""
    expected = partition_keys()
    keys = dict(client.query("SELECT concat(database, '.', name), partition_key FROM system.tables "
                             "WHERE concat(database, '.', name) IN %(tables)s",
                             parameters={"tables": list(expected) or [""]}).result_rows)
    return [f"{table} is not partitioned by {key}" for table, key in expected.items()
            if table in keys and keys[table] not in (key, f"({key})")]
