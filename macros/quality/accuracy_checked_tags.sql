{#- The catalog rows accuracy sampling re-evaluates: rule, score and manual tags (the built ones: archived
    tags have no model), from the tag models' meta. rfm tags rank a customer against all others and sql tags
    are hand-written: a per-customer recomputation does not apply to them (the RFM model has its own tests).
    A run of the intraday or new_tags lane checks its lane's tags. -#}
{% macro accuracy_checked_tags() -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set rows = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.meta.get('method') in ('rule', 'score', 'manual')
                                           and in_lane_key(node.config.meta['tag_key']) -%}
        {%- do rows.append(node.config.meta) -%}
    {%- endfor -%}
    {{ return(rows | sort(attribute='tag_key')) }}
{%- endmacro %}
