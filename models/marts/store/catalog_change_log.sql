{#- Every run's changes to catalog rows against the previous published run: a row added or removed,
    or one line per changed field with the old and new text, and who changed it when. -#}
{{ config(order_by='(as_of, run_id, tag_key, field)', partition_by='as_of') }}

with current_rows as (
    select tag_key, {{ catalog_fields() }} as fields, updated_by, updated_at
    from {{ ref('tag_catalog') }}
),

previous_rows as (
    select tag_key, {{ catalog_fields() }} as fields, updated_by, updated_at
    from {{ ref('tag_catalog_snapshots') }}
    where (as_of, run_id) in {{ previous_published_run() }}
),

paired as (
    select
        if(current_rows.tag_key != '', current_rows.tag_key, previous_rows.tag_key) as tag_key,
        current_rows.tag_key != '' as in_current,
        previous_rows.tag_key != '' as in_previous,
        current_rows.fields as new_fields,
        previous_rows.fields as old_fields,
        if(in_current, current_rows.updated_by, previous_rows.updated_by) as updated_by,
        if(in_current, current_rows.updated_at, previous_rows.updated_at) as updated_at
    from current_rows
    full outer join previous_rows on previous_rows.tag_key = current_rows.tag_key
),

changes as (
    select tag_key, 'added' as change, '' as field, '' as old_value, '' as new_value, updated_by, updated_at
    from paired where in_current and not in_previous
    union all
    select tag_key, 'removed', '', '', '', updated_by, updated_at
    from paired where in_previous and not in_current
    union all
    select tag_key, 'changed', field, old_fields[field], new_fields[field], updated_by, updated_at
    from paired
    array join mapKeys(new_fields) as field
    where in_current and in_previous and old_fields[field] != new_fields[field]
)

select {{ run_id() }} as run_id, {{ as_of() }} as as_of, * from changes
