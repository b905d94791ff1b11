{#- Per published as_of, who entered or left each audience against the previous published day. -#}
select changes.as_of as as_of, changes.audience_key as audience_key, customer_index.customer_id as customer_id,
       changes.change as change
from (
    select as_of, audience_key, 'entered' as change, arrayJoin(bitmapToArray(entered)) as customer_index
    from {{ ref('audience_change_log') }}
    where (as_of, run_id) in {{ published_run_per_as_of() }}
    union all
    select as_of, audience_key, 'left' as change, arrayJoin(bitmapToArray(left)) as customer_index
    from {{ ref('audience_change_log') }}
    where (as_of, run_id) in {{ published_run_per_as_of() }}
) as changes
inner join {{ ref('customer_index') }} as customer_index on customer_index.customer_index = changes.customer_index
