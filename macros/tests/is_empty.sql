{#- The model holds no row; every row it holds is a failing one. For reports that should stay empty (identifiers
    held back from stitching), at severity warn: the run goes on and says how many there are. -#}
{% test is_empty(model) %}
select *
from {{ model }}
{% endtest %}
