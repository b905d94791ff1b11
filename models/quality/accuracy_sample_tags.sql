{#- The sampled customers' tags, re-evaluated from the catalog's rules on the independently
    computed features (accuracy_sample_features): the same catalog rows, other arithmetic. -#}
-- depends_on: {{ ref('stg_manual_tag_assignments') }}
{{ config(order_by='(tag_key, customer_id)') }}
{%- set sample_features = ref('accuracy_sample_features') %}
{%- set state_at_cutoff = ref('accuracy_sample_state_at_cutoff') %}
{%- set rows = accuracy_checked_tags() %}

{% if rows | length == 0 -%}
select {{ as_of() }} as as_of, '' as customer_id, '' as tag_key, '' as tag_value where 0
{%- endif %}
{%- for row in rows %}
{{ 'union all' if not loop.first }}
select as_of, customer_id, tag_key, cast(tag_value as String) as tag_value from (
    {%- set features = features_at(row, sample_features, state_at_cutoff) %}
    {%- if row['method'] == 'rule' %}
    {{ rule_tag(row, features) }}
    {%- elif row['method'] == 'score' %}
    {{ score_tag(row, features) }}
    {%- else %}
    {{ manual_tag(row, ref('stg_manual_tag_assignments'), features) }}
    {%- endif %}
)
{%- endfor %}
