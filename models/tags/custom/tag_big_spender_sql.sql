{#- A hand-written tag (catalog method `sql`): a rule too rich for one catalog row.
    Big spender: in the top 5% of their country by spend in the last 365 days, with 2 or more
    orders in them. Ranking within a country needs a window over all customers, which a
    one-row rule cannot express.

    A sql tag model returns one row per tagged customer with the columns
    as_of, customer_id, tag_value (a flag is '1'); tag_key, description, owner and the quality
    settings come from its catalog row, like any other tag. -#}

with ranked as (
    select
        as_of,
        customer_id,
        orders_365d,
        percent_rank() over (partition by country order by spend_365d) as spend_rank_in_country
    from {{ ref('customer_features') }}
    where spend_365d > 0
)

select as_of, customer_id, '1' as tag_value
from ranked
where spend_rank_in_country >= 0.95 and orders_365d >= 2
