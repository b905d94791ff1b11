{#- Every row of the model satisfies the expression (the failing rows are the ones that do not). -#}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}
