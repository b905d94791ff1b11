{#- One row per staged customer: the stitched customer it is part of (identity_components), its own customer_id
    when no edge links it to another customer, and how many customer_ids the stitched customer has. -#}
{{ config(order_by='customer_id') }}

with stitched as (
    select id as customer_id, stitched_customer_id
    from {{ ref('identity_components') }}
    where id_type = 'customer_id'
),

keyed as (
    select
        customers.customer_id as customer_id,
        if(stitched.customer_id = customers.customer_id, stitched.stitched_customer_id, customers.customer_id)
            as stitched_customer_id
    from {{ ref('stg_customers') }} as customers
    left join stitched on stitched.customer_id = customers.customer_id
)

select
    customer_id,
    stitched_customer_id,
    toUInt32(count() over (partition by stitched_customer_id)) as customer_ids
from keyed
