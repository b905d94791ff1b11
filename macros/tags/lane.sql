{#- The lane a run refreshes (var lane): nightly, every built tag (the default); intraday, only the tags whose
    catalog row says lane = intraday (orchestration/dagster/intraday.py); or new_tags, only the tags of var new_tags,
    new catalog rows built alone onto the published night (orchestration/dagster/new_tags.py). A run of the
    intraday or new_tags lane writes its rows to the tag store under its own run id for those tags alone, so every
    store model that reads another run (the previous published one, to compare) restricts that run to the same
    tags: in_lane(). -#}
{% macro lane() -%}
    {%- set lane = run_var('lane', 'nightly') -%}
    {%- if lane not in ('nightly', 'intraday', 'new_tags') -%}
        {{ exceptions.raise_compiler_error("var lane must be nightly, intraday or new_tags, got '" ~ lane ~ "'") }}
    {%- endif -%}
    {%- if lane == 'new_tags' and not run_var('new_tags', []) -%}
        {{ exceptions.raise_compiler_error("var lane is new_tags: var new_tags must list the tag keys to build") }}
    {%- endif -%}
    {{ return(lane) }}
{%- endmacro %}

{#- The tag keys the project builds, from the tag models' meta (written from the catalog); with lane, only those
    whose catalog row is in that lane. -#}
{% macro built_tag_keys(lane=none) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set keys = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.meta.get('tag_key')
                                           and (lane is none or node.config.meta.get('lane') == lane) -%}
        {%- do keys.append(node.config.meta['tag_key']) -%}
    {%- endfor -%}
    {{ return(keys | sort) }}
{%- endmacro %}

{#- The tag keys this run builds: none in the nightly lane (every tag), else the lane's. -#}
{% macro lane_tag_keys() -%}
    {%- if lane() == 'nightly' -%}
        {{ return(none) }}
    {%- elif lane() == 'intraday' -%}
        {{ return(built_tag_keys('intraday')) }}
    {%- else -%}
        {{ return(run_var('new_tags')) }}
    {%- endif -%}
{%- endmacro %}

{#- Whether the tag key belongs to this run's lane, at compile time. -#}
{% macro in_lane_key(tag_key) -%}
    {%- set keys = lane_tag_keys() -%}
    {{ return(keys is none or tag_key in keys) }}
{%- endmacro %}

{#- A SQL condition: the tag in column belongs to this run's lane (always true in the nightly lane). -#}
{% macro in_lane(column) -%}
    {%- set keys = lane_tag_keys() -%}
    {%- if keys is none -%}
        1
    {%- else -%}
        {{ _tag_key_in(column, keys) }}
    {%- endif -%}
{%- endmacro %}

{#- A SQL condition: the tag in column is in the intraday lane, as the catalog of this build says. An intraday run
    refuses to run while the catalog's lane differs from the published night's (orchestration/dagster/intraday.py). -#}
{% macro is_intraday_tag(column) -%}
    {{ _tag_key_in(column, built_tag_keys('intraday')) }}
{%- endmacro %}

{#- A SQL condition: the tag in column is one of keys (0 when there are none). -#}
{% macro _tag_key_in(column, keys) -%}
    {%- if keys -%}
        {{ column }} in ('{{ keys | join("', '") }}')
    {%- else -%}
        0
    {%- endif -%}
{%- endmacro %}
