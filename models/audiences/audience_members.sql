{#- The members of every live audience in the current published run, one row per audience and customer. -#}
select snapshots.as_of as as_of, snapshots.audience_key as audience_key, customer_index.customer_id as customer_id
from (
    select as_of, audience_key, arrayJoin(bitmapToArray(members)) as customer_index
    from {{ ref('audience_bitmap_snapshots') }}
    where (as_of, run_id) in {{ current_published_run() }}
) as snapshots
inner join {{ ref('customer_index') }} as customer_index on customer_index.customer_index = snapshots.customer_index
