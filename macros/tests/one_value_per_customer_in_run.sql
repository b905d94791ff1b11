{#- Within this run's rows of the long table (or of the change log: value names the column or expression that holds
    the value), a customer has one row per tag, except for labels tags (several values per customer), which have one
    row per value. -#}
{% test one_value_per_customer_in_run(model, value='tag_value') %}
select customer_id, tag_key, count() as copies
from {{ model }}
where run_id = {{ run_id() }}
group by customer_id, tag_key
having copies > 1 and (tag_key not in {{ labels_tag_keys() }} or uniqExact({{ value }}) < copies)
{% endtest %}
