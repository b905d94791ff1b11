{#- A pre-hook for the append-only store models whose columns follow the catalog (profile_snapshots): adds the
    columns the model's query has and the table lacks. dbt-clickhouse's incremental materialization takes its
    inserts-only path for an append without unique_key, and that path ignores on_schema_change, so a new
    catalog row (or a new column of publish_log, tag_catalog_snapshots) made the next run fail with "Number of columns doesn't match". The adapter's own check and
    ALTER are reused; the columns are Nullable, so earlier runs' rows read NULL. Renders nothing (no statement)
    when the table is new or nothing is missing. -#}
{% macro append_new_columns() -%}
    {%- if execute and is_incremental() -%}
        {%- set changes = adapter.check_incremental_schema_changes('append_new_columns', this, model.compiled_code) -%}
        {%- if changes -%}
            {%- do clickhouse__apply_column_changes(changes, this) -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
