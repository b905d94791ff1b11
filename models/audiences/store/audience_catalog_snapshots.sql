{#- Every run's copy of the audience file (seeds/audiences.csv), so that audiences.audience_catalog
    shows the definitions the published run was built from. The seed itself is reloaded (emptied,
    then filled) at the start of every dbt build; a view reading it would show BI no audiences,
    or tomorrow's, in the middle of a refresh. -#}
{{ config(order_by='(as_of, run_id, audience_key)', partition_by='as_of') }}

select
    {{ run_id() }} as run_id,
    {{ as_of() }} as as_of,
    audience_key,
    audience_name,
    expression,
    owner,
    purpose,
    channel,
    priority,
    expires_on
from {{ ref('audiences') }}
