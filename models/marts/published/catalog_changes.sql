{#- Every change to a catalog row between published runs: which field, old and new text, by whom. -#}
select as_of, tag_key, change, field, old_value, new_value, updated_by, updated_at
from {{ ref('catalog_change_log') }}
where (as_of, run_id) in {{ published_run_per_as_of() }}
