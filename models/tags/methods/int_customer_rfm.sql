{#- RFM as of as_of for every customer with at least one counted order.
    Each of R, F and M is scored 1-5 by quintile of the customers' rank: score = 1 + floor(5 * (rank - 1) / n),
    where rank() gives tied customers the same rank, so equal figures always get equal scores
    (quintiles are then uneven where many customers tie, e.g. on one order).
      R: days since the last order, fewer is better; F: counted orders, lifetime; M: spend, lifetime.
    Segments, first match wins (every R/F pair lands in exactly one):
      champions          R >= 4, F >= 4, M >= 4
      cannot_lose        R <= 2, F >= 4, M >= 4
      loyal              R >= 3, F >= 4
      at_risk            R <= 2, F >= 3
      new                R >= 4, F = 1
      potential_loyalist R >= 3, F <= 3
      hibernating        R = 2,  F <= 2
      lost               R = 1,  F <= 2 -#}
{{ config(order_by='customer_id') }}

with buyers as (
    select as_of, customer_id, days_since_last_order, orders_total, spend_total
    from {{ ref('customer_features') }}
    where orders_total > 0
),

scored as (
    select
        as_of,
        customer_id,
        toUInt8(1 + intDiv(5 * (rank() over (order by days_since_last_order desc) - 1), count() over ())) as r_score,
        toUInt8(1 + intDiv(5 * (rank() over (order by orders_total) - 1), count() over ())) as f_score,
        toUInt8(1 + intDiv(5 * (rank() over (order by spend_total) - 1), count() over ())) as m_score
    from buyers
)

select
    as_of,
    customer_id,
    r_score,
    f_score,
    m_score,
    toUInt16(r_score * 100 + f_score * 10 + m_score) as rfm_score,
    multiIf(
        r_score >= 4 and f_score >= 4 and m_score >= 4, 'champions',
        r_score <= 2 and f_score >= 4 and m_score >= 4, 'cannot_lose',
        r_score >= 3 and f_score >= 4, 'loyal',
        r_score <= 2 and f_score >= 3, 'at_risk',
        r_score >= 4 and f_score = 1, 'new',
        r_score >= 3, 'potential_loyalist',
        r_score = 2, 'hibernating',
        'lost'
    ) as segment
from scored
