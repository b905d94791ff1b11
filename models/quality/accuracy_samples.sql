{#- Every run's accuracy sample: its rate and cap (dbt vars) and the customers drawn, seeded with the run id. -#}
{{ config(materialized='incremental', incremental_strategy='append', order_by='(as_of, run_id)',
          pre_hook="{{ delete_this_run() }}") }}

select
    {{ run_id() }} as run_id,
    {{ as_of() }} as as_of,
    toFloat64({{ var('accuracy_sample_rate') }}) as sample_rate,
    toUInt32({{ var('accuracy_sample_max') }}) as sample_max,
    toUInt32(count()) as customers,
    {{ run_id() }} as seed
from {{ ref('accuracy_sample_features') }}
