{#- Every row of the model is computed as of this run's as_of: a tag table left over from a run of
    another day would otherwise mix two days into one snapshot. -#}
{% test equals_as_of(model, column_name) %}
select {{ column_name }} as stale_as_of, count() as stale_rows
from {{ model }}
where {{ column_name }} != {{ as_of() }}
group by {{ column_name }}
{% endtest %}
