{#- The lane a run refreshes (var lane): nightly, every built tag (the default), or intraday, only the tags whose
    catalog row says lane = intraday (orchestration/dagster/intraday.py). An intraday run writes its rows to the
    tag store under its own run id for those tags alone, so every store model that reads another run (the previous
    published one, to compare) restricts that run to the same tags: in_lane(). -#}
{% macro lane() -%}
    {%- set lane = var('lane', 'nightly') -%}
    {%- if lane not in ('nightly', 'intraday') -%}
        {{ exceptions.raise_compiler_error("var lane must be nightly or intraday, got '" ~ lane ~ "'") }}
    {%- endif -%}
    {{ return(lane) }}
{%- endmacro %}

{#- The tag keys of the intraday lane, from the tag models' meta (written from the catalog). -#}
{% macro intraday_tag_keys() -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set keys = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.meta.get('lane') == 'intraday' -%}
        {%- do keys.append(node.config.meta['tag_key']) -%}
    {%- endfor -%}
    {{ return(keys | sort) }}
{%- endmacro %}

{#- A SQL condition: the tag in column belongs to this run's lane (always true in the nightly lane). -#}
{% macro in_lane(column) -%}
    {%- if lane() == 'nightly' -%}
        1
    {%- else -%}
        {{ is_intraday_tag(column) }}
    {%- endif -%}
{%- endmacro %}

{#- A SQL condition: the tag in column is in the intraday lane, as the catalog of this build says (0 when the lane
    is empty). The published views are built by the nightly run, so they name the lane of the published night;
    an intraday run refuses to run while the catalog's lane differs from it (orchestration/dagster/intraday.py). -#}
{% macro is_intraday_tag(column) -%}
    {%- set keys = intraday_tag_keys() -%}
    {%- if keys -%}
        {{ column }} in ('{{ keys | join("', '") }}')
    {%- else -%}
        0
    {%- endif -%}
{%- endmacro %}
