{#- One row per stitched customer (identity/stitched_customers): the account whose customer_id is the stitched key,
    the least customer_id of the person's accounts, with its attributes. Accounts merged into another are in
    stg_customer_accounts only. -#}
select *
from {{ ref('stg_customer_accounts') }}
where customer_id not in (select customer_id from {{ merged_accounts() }})
