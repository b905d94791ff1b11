{#- The catalog with member count, coverage and first-built date, of the current published run. -#}
{{ config(alias='tag_catalog') }}

select * except (run_id)
from {{ ref('tag_catalog_snapshots') }}
where (as_of, run_id) in {{ current_published_run() }}
