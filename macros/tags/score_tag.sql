{#- The value score, 0-100, for every customer: a weighted sum of five parts, each scaled to 0-1.
    The weights and caps are the catalog row's params (validated to sum to 1, parsed into the model's meta), so re-weighting is
    one cell:
      recency    1 on the day of the last order, falling linearly to 0 at recency_days; 0 if never
      frequency  orders in the last 365 days / frequency_cap, at most 1
      monetary   spend in the last 365 days / monetary_cap, at most 1
      engagement mean of the 7-day message reply rate and the 90-day email open rate
      tier       member tier: platinum 1, gold 2/3, silver 1/3, none 0
    value_score = round(100 * sum(weight * part), 1) -#}
{% macro score_tag(row, features) -%}
    {%- set p = row['params'] -%}
    {%- for name in ['w_recency', 'w_frequency', 'w_monetary', 'w_engagement', 'w_tier', 'recency_days', 'frequency_cap', 'monetary_cap'] if name not in p -%}
        {{ exceptions.raise_compiler_error("tag_catalog row '" ~ row['tag_key'] ~ "', column params: score param " ~ name ~ " is missing") }}
    {%- endfor -%}
with parts as (
    select
        as_of,
        customer_id,
        greatest(0, 1 - ifNull(days_since_last_order, {{ p['recency_days'] }}) / {{ p['recency_days'] }}) as recency,
        least(1, orders_365d / {{ p['frequency_cap'] }}) as frequency,
        least(1, spend_365d / {{ p['monetary_cap'] }}) as monetary,
        (reply_rate_7d + email_open_rate_90d) / 2 as engagement,
        multiIf(member_tier = 'platinum', 1, member_tier = 'gold', 2 / 3, member_tier = 'silver', 1 / 3, 0) as tier
    from {{ features }}
)

select
    as_of,
    customer_id,
    '{{ row['tag_key'] }}' as tag_key,
    toString(round(100 * (
        {{ p['w_recency'] }} * recency + {{ p['w_frequency'] }} * frequency + {{ p['w_monetary'] }} * monetary
        + {{ p['w_engagement'] }} * engagement + {{ p['w_tier'] }} * tier), 1)) as tag_value
from parts
{%- endmacro %}
