{#- A seed whose CSV gained, lost or reordered a column (a new catalog column) is re-created instead of truncated:
    dbt's default truncates the existing table and inserts, which on a warehouse built before the change failed
    with "No such column evaluated_at in table catalog.tag_catalog". Unchanged seeds keep dbt's truncate. -#}
{% macro clickhouse__reset_csv_table(model, full_refresh, old_relation, agate_table) %}
    {%- set stored = adapter.get_columns_in_relation(old_relation) | map(attribute='name') | list -%}
    {%- set columns_changed = stored != (agate_table.column_names | map('string') | list) -%}
    {{ return(default__reset_csv_table(model, full_refresh or columns_changed, old_relation, agate_table)) }}
{% endmacro %}
