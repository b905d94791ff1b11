{#- One row per staged customer account: the stitched customer it is part of and how many accounts that customer
    has. The stitched customer is the least customer_id among the staged accounts of its identity component (so a
    raw customer staging rejects, such as one signed up after as_of, never becomes the key); an account no edge
    links to another is its own. Staging keys orders, events, tickets, consents and manual tags by it
    (macros/identity/stitched_rows.sql), so it reads the accounts, not stg_customers. -#}
{{ config(order_by='customer_id') }}

with components as (
    select id as customer_id, component
    from {{ ref('identity_components') }}
    where id_type = 'customer_id'
),

keyed as (
    select
        accounts.customer_id as customer_id,
        {#- an account in no component is one of its own, keyed by its graph key (labels are graph keys too) -#}
        if(components.customer_id = accounts.customer_id, components.component,
           {{ identifier_key("'customer_id'", 'accounts.customer_id') }}) as component
    from {{ ref('stg_customer_accounts') }} as accounts
    left join components on components.customer_id = accounts.customer_id
)

select
    customer_id,
    min(customer_id) over (partition by component) as stitched_customer_id,
    toUInt32(count() over (partition by component)) as customer_ids
from keyed
