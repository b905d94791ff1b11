{#- A post-hook for a model whose columns are another model's (accuracy_sample_features recomputes
    customer_features): comments its columns with that model's YAML descriptions, where its own YAML
    has none, so the descriptions are written once. -#}
{% macro persist_column_docs_of(model_name) -%}
    {%- if execute -%}
        {%- set source_node = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
                              | selectattr('name', 'equalto', model_name) | first -%}
        {%- set present = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        {%- set comments = [] -%}
        {%- for name, column in source_node.columns.items()
              if name in present and column.description and not model.columns.get(name, {}).get('description') -%}
            {%- do comments.append("comment column `" ~ name ~ "` " ~ clickhouse_escape_comment(column.description)) -%}
        {%- endfor -%}
        {%- if comments -%}
            alter table {{ this }} {{ on_cluster_clause(this) }} {{ comments | join(', ') }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
