{#- The catalog with member count, coverage and first-built date, of the current published run: each tag's row
    from the run it is read from now (the night, or a run that refines it: macros/publish/published_runs.sql). -#}
{{ config(alias='tag_catalog') }}

select * except (run_id)
from {{ ref('tag_catalog_snapshots') }}
where (as_of, run_id, tag_key) in {{ shown_tag_runs() }}
