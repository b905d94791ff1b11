{#- Running on a ClickHouse cluster (profiles.yml: targets `cluster` and `two_shards`).

    tag_snapshots, the long table with a row per customer and tag, is split across the shards by
    customer: a shard table on every node (`tag_store.tag_snapshots_local`) behind a Distributed
    table (`tag_store.tag_snapshots`) that routes each row by cityHash64(customer_id). Counts and
    bitmaps over it are distributed aggregations: each shard builds the states of its own customers
    and the initiator merges them. The other store tables are small (a row per tag value, audience
    or run) and are replicated to every node on a real cluster (dbt_project.yml: the store's engine).

    Queries that read tag_snapshots next to a table only the initiator holds (the publish log, the
    customer index, the accuracy sample) use GLOBAL IN / GLOBAL JOIN, so the shards get that table
    sent along instead of looking for it locally; on a single server GLOBAL changes nothing. -#}

{#- Whether DDL runs ON CLUSTER: on a real cluster yes; the embedded servers of `two_shards` have no
    Keeper and refuse it, so there the shard tables are created on each server by orchestration/warehouse/shards.py. -#}
{% macro cluster_ddl_enabled() -%}
    {{ return(target.name != 'two_shards') }}
{%- endmacro %}

{#- dbt-clickhouse appends this to every DDL when the profile names a cluster; overridden here only
    where the servers cannot run it (two_shards). There it is a comment instead of nothing, because
    dbt-clickhouse's distributed materializations refuse to run when the clause is empty. -#}
{% macro on_cluster_clause(relation, force_sync) -%}
    {%- if cluster_ddl_enabled() -%}
        {{ dbt.on_cluster_clause(relation, force_sync) }}
    {%- else -%}
        {{ ' /* no ON CLUSTER on the embedded shards: macros/cluster/cluster.sql */ ' }}
    {%- endif -%}
{%- endmacro %}

{#- The config of a table sharded by customer: on a cluster a Distributed table over a shard table
    per node (dbt-clickhouse's distributed_incremental), appended like the rest of the store; on a
    single server an ordinary incremental table. -#}
{% macro sharded_by_customer() -%}
    {%- if target.cluster -%}
        {{ return({
            'materialized': 'distributed_incremental',
            'sharding_key': 'cityHash64(customer_id)',
            'engine': "ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')"
                      if cluster_ddl_enabled() else 'MergeTree()',
        }) }}
    {%- else -%}
        {{ return({}) }}
    {%- endif -%}
{%- endmacro %}
