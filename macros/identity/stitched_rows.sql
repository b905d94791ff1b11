{#- A staging model's accepted rows keyed by the stitched customer (identity/stitched_customers): customer_id is
    the stitched customer's from staging on, so features, tags and audiences count one person once whatever
    account an order, event or ticket came from; source_customer_id keeps the account's own id (exports send each
    channel the identifier of the account that consented). Only the merged accounts are looked up: most customers
    are their own stitched customer. -#}
{% macro stitched_rows(base_model, columns) -%}
select
    {%- for column in columns %}
    {{ stitched_customer_id('rows.customer_id', 'merged') if column == 'customer_id' else 'rows.' ~ column }} as {{ column }},
    {%- endfor %}
    rows.customer_id as source_customer_id
from {{ ref(base_model) }} as rows
left join {{ merged_accounts() }} as merged on merged.customer_id = rows.customer_id
where rows.reject_reason = ''
{%- endmacro %}

{#- The accounts stitched into another customer, with the customer they belong to. -#}
{% macro merged_accounts() -%}
(select customer_id, stitched_customer_id from {{ ref('stitched_customers') }} where customer_id != stitched_customer_id)
{%- endmacro %}

{#- An account's stitched customer, given the account's merged_accounts row joined as `merged` (left join): compared
    on the key, so the answer is the same with or without join_use_nulls. -#}
{% macro stitched_customer_id(account, merged) -%}
if({{ merged }}.customer_id = {{ account }}, {{ merged }}.stitched_customer_id, {{ account }})
{%- endmacro %}

{#- The accounts of the stitched customers a query returns, to filter staged rows on source_customer_id: the staged
    tables are sorted by the account's id, so a few customers' rows are read by their index, not by a full scan. -#}
{% macro accounts_of(customers) -%}
(select customer_id from {{ ref('stitched_customers') }} where stitched_customer_id in ({{ customers }}))
{%- endmacro %}
