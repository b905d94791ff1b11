{#- Within this run's rows of a run-versioned store table, the columns identify a row once. -#}
{% test unique_in_run(model, columns) %}
select {{ columns | join(', ') }}, count() as copies
from {{ model }}
where run_id = {{ run_id() }}
group by {{ columns | join(', ') }}
having copies > 1
{% endtest %}
