{#- Each customer's accounts (identity stitching): BI joins its own systems' customer ids to the stitched customers
    the tags are keyed by. No contact data. The last night's stitching, read when queried. The columns are
    qualified: in ClickHouse an alias is visible in the whole select, so a bare customer_id would be the stitched one. -#}
select stitched.stitched_customer_id as customer_id, stitched.customer_id as source_customer_id
from {{ ref('stitched_customers') }} as stitched
