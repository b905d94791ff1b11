{#- Incremental staging: a base table is partitioned like its raw table's loads (or its facts' month) and
    a run rebuilds from raw only the partitions whose raw rows changed: their row count, or the hash of
    their loads (id and time), differs from what the base table holds. -#}
{% macro changed_partitions(raw_relation, partition_expr) -%}
    select raw_side.partition
    from (
        select {{ partition_expr }} as partition, count() as row_count, sum(cityHash64(_load_id, _loaded_at)) as loads
        from {{ raw_relation }}
        group by partition
    ) as raw_side
    left join (
        select {{ partition_expr }} as partition, count() as row_count, sum(cityHash64(_load_id, _loaded_at)) as loads
        from {{ this }}
        group by partition
    ) as built on raw_side.partition = built.partition
    where raw_side.row_count != built.row_count or raw_side.loads != built.loads
{%- endmacro %}


{#- The partitions of this base table holding a row whose verdict depends on something outside the row
    (as_of, another table) and would now be different: they are rebuilt too. -#}
{% macro partitions_to_recheck(partition_expr, verdict_changes) -%}
    select {{ partition_expr }} from {{ this }}
    where {{ verdict_changes | join('\n       or ') }}
{%- endmacro %}


{#- A pre-hook: drop the partitions of this incremental model that its upstream no longer has (raw
    tables replaced, as `tags demo` does). insert_overwrite only replaces the partitions a run writes,
    so without this their rows would stay. -#}
{% macro drop_vanished_partitions(partition_expr, upstream, upstream_partition_expr=none) -%}
    {%- if execute and is_incremental() -%}
        {%- set gone = run_query("select distinct toString(" ~ partition_expr ~ ") from " ~ this ~ " where "
            ~ partition_expr ~ " not in (select " ~ (upstream_partition_expr or partition_expr) ~ " from " ~ upstream ~ ")") -%}
        {%- for row in gone.rows -%}
            {%- do run_query("alter table " ~ this ~ " drop partition id '" ~ row[0] ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}
