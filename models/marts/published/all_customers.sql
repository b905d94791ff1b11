{#- Every customer of the current published run as one bitmap (the universe of `not` in audiences). -#}
select as_of, members, member_count
from {{ ref('customer_bitmap_snapshots') }}
where (as_of, run_id) in {{ current_published_run() }}
