{#- A pre-hook for the append-only store models whose columns follow the catalog (profile_snapshots): adds the
    columns the model's query has and the table lacks. dbt-clickhouse's incremental materialization takes its
    inserts-only path for an append without unique_key, and that path ignores on_schema_change, so a new
    catalog row (or a new column of publish_log, tag_catalog_snapshots) made the next run fail with "Number of columns doesn't match". The adapter's own check and
    ALTER are reused; the columns are Nullable, so earlier runs' rows read NULL.
    With replace_changed_types (the profile, whose columns are tags): a column whose type the query changed (a tag's
    value_type changed, e.g. label to labels: String to Array(String)) cannot be converted, so it is dropped and added
    again with the new type in the same place (the run fills the table by position); earlier runs' rows read the new
    type's empty value. Elsewhere a changed type fails the run, as the adapter's own check does. Renders nothing (no
    statement) when the table is new or nothing is missing. -#}
{% macro append_new_columns(replace_changed_types=false) -%}
    {%- if execute and is_incremental() -%}
        {%- set changes = adapter.check_incremental_schema_changes(
                'sync_all_columns' if replace_changed_types else 'append_new_columns', this, model.compiled_code) -%}
        {%- set stored = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        {%- for column in changes.columns_to_modify -%}
            {%- set position = stored.index(column.name) -%}
            {%- do run_query('alter table ' ~ this ~ ' drop column `' ~ column.name ~ '`') -%}
            {%- do run_query('alter table ' ~ this ~ ' add column `' ~ column.name ~ '` ' ~ column.data_type
                             ~ (' after `' ~ stored[position - 1] ~ '`' if position > 0 else ' first')) -%}
        {%- endfor -%}
        {%- if changes.columns_to_add -%}
            {%- do clickhouse__add_columns(changes.columns_to_add, this) -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
