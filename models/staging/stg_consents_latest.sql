{#- The consent decision in force per customer account (raw customer_id, not the stitched customer: consent is
    given per identifier) and channel, for exports (orchestration/audiences/exports.py).
    Read from raw when the view is queried, not as of the last refresh: a withdrawal loaded after the
    nightly run already counts. Decisions dated in the future are ignored; of two decisions at the
    same instant the withdrawal wins (stg_consents keeps every decision that passed the contract, as
    of the refresh). -#}
with decided as (
    select customer_id, channel, granted, updated_at as decided_at
    from {{ visible_raw_rows('consents') }}
    where updated_at <= now()
)

select
    customer_id,
    channel,
    argMax(granted, (decided_at, not granted)) as granted,
    max(decided_at) as updated_at
from decided
group by customer_id, channel
