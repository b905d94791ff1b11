{#- The catalog rows accuracy sampling re-evaluates: rule, score and manual tags (the built ones: archived
    tags have no model), from the tag models' meta. rfm tags rank a customer against all others and sql tags
    are hand-written: a per-customer recomputation does not apply to them (the RFM model has its own tests).
    An intraday run checks its lane's tags. -#}
{% macro accuracy_checked_tags() -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set rows = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.meta.get('method') in ('rule', 'score', 'manual')
                                           and (lane() == 'nightly' or node.config.meta.get('lane') == 'intraday') -%}
        {%- do rows.append(node.config.meta) -%}
    {%- endfor -%}
    {{ return(rows | sort(attribute='tag_key')) }}
{%- endmacro %}
