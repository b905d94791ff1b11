{#- The orders that count as a purchase (paid or later: the features' rule, macro counted_order_statuses),
    one row per order of staging; campaign impact (orchestration/audiences/impact.py) reads the ones placed
    in the window after an export. In staging, not in `audiences`: BI reads audiences, not orders. -#}
select order_id, customer_id, ordered_at, amount
from {{ ref('stg_orders') }}
where status in {{ counted_order_statuses() }}
