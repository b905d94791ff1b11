{#- A model tag (method model): the band of the score the model step gave each customer in this run
    (orchestration/models/model_tags.py writes tag_store.model_scores before the tag is built; in Dagster the
    source model_runs is that step's asset, so the tag waits for it). A score of band_high or more is 'high',
    of band_medium or more 'medium', any other 'low': every scored customer has one band.
    Its stub is `{{ model_tag('<key>') }}` rather than catalog_tag: only model tags depend on the model step. -#}
{% macro model_tag(tag_key) -%}
    {%- set scores = source('model_runs', 'model_scores') -%}
    {%- if not execute -%}
        select '' as customer_id
    {%- else -%}
        {%- set row = _catalog_row(tag_key) -%}
        {%- set p = row['params'] -%}
        {%- for name in ['band_high', 'band_medium'] if name not in p -%}
            {{ exceptions.raise_compiler_error("tag_catalog row '" ~ tag_key ~ "', column params: model param " ~ name ~ " is missing") }}
        {%- endfor -%}
select
    {{ as_of() }} as as_of,
    customer_id,
    '{{ tag_key }}' as tag_key,
    multiIf(score >= {{ p['band_high'] }}, 'high', score >= {{ p['band_medium'] }}, 'medium', 'low') as tag_value
from {{ scores }}
where run_id = {{ run_id() }} and tag_key = '{{ tag_key }}'
    {%- endif -%}
{%- endmacro %}
