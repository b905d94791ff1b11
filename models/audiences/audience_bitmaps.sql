{#- Every live audience of the current published run as a bitmap over customer_index. -#}
select as_of, audience_key, members, member_count
from {{ ref('audience_bitmap_snapshots') }}
where (as_of, run_id) in {{ current_published_run() }}
