{#- The catalog row of one tag, as `tags catalog sync` parsed it into the tag model's meta
    (models/tags/generated/_tags.yml): a rule's SQL with its params filled in, a score's params. -#}
{% macro _catalog_row(tag_key) -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.meta.get('tag_key') == tag_key -%}
        {{ return(node.config.meta) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("no tag model has meta tag_key '" ~ tag_key ~ "': run `tags catalog sync` after editing the catalog") }}
{%- endmacro %}
