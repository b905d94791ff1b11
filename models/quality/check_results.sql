{#- The outcome of every quality check of every run, the latest where a run checked twice. BI reads it. -#}
{{ config(materialized='view') }}

select run_id, as_of, checked_at, tag_key, check, passed, blocking, when_blocked, observed, expected, message, status,
       failures, test_name
from {{ ref('check_outcomes') }}
order by checked_at desc
limit 1 by run_id, tag_key, check
