{#- The lane a run refreshes (var lane): nightly, every built tag (the default); intraday, only the tags whose
    catalog row says lane = intraday (orchestration/dagster/intraday.py); or new_tags, only the tags of var new_tags,
    new catalog rows built alone onto the published night (orchestration/dagster/new_tags.py). A run of the
    intraday or new_tags lane writes its rows to the tag store under its own run id for those tags alone, so every
    store model that reads another run (the previous published one, to compare) restricts that run to the same
    tags: in_lane(). -#}
{% macro lane() -%}
    {%- set lane = var('lane', 'nightly') -%}
    {%- if lane not in ('nightly', 'intraday', 'new_tags') -%}
        {{ exceptions.raise_compiler_error("var lane must be nightly, intraday or new_tags, got '" ~ lane ~ "'") }}
    {%- endif -%}
    {%- if lane == 'new_tags' and not var('new_tags', []) -%}
        {{ exceptions.raise_compiler_error("var lane is new_tags: var new_tags must list the tag keys to build") }}
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

{#- Every tag key the project builds, from the tag models' meta. -#}
{% macro built_tag_keys() -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set keys = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.meta.get('tag_key') -%}
        {%- do keys.append(node.config.meta['tag_key']) -%}
    {%- endfor -%}
    {{ return(keys | sort) }}
{%- endmacro %}

{#- Whether the tag key belongs to this run's lane, at compile time. -#}
{% macro in_lane_key(tag_key) -%}
    {%- if lane() == 'nightly' -%}
        {{ return(true) }}
    {%- elif lane() == 'intraday' -%}
        {{ return(tag_key in intraday_tag_keys()) }}
    {%- else -%}
        {{ return(tag_key in var('new_tags')) }}
    {%- endif -%}
{%- endmacro %}

{#- A SQL condition: the tag in column belongs to this run's lane (always true in the nightly lane). -#}
{% macro in_lane(column) -%}
    {%- if lane() == 'nightly' -%}
        1
    {%- elif lane() == 'intraday' -%}
        {{ is_intraday_tag(column) }}
    {%- else -%}
        {{ column }} in ('{{ var('new_tags') | join("', '") }}')
    {%- endif -%}
{%- endmacro %}

{#- A SQL condition: the tag in column is in the intraday lane, as the catalog of this build says (0 when the lane
    is empty). An intraday run refuses to run while the catalog's lane differs from the published night's
    (orchestration/dagster/intraday.py). -#}
{% macro is_intraday_tag(column) -%}
    {%- set keys = intraday_tag_keys() -%}
    {%- if keys -%}
        {{ column }} in ('{{ keys | join("', '") }}')
    {%- else -%}
        0
    {%- endif -%}
{%- endmacro %}
