{#- An rfm tag reads the RFM model (int_customer_rfm): a label tag is the segment, a number tag the
    three quintile scores as one number (R*100 + F*10 + M, e.g. 545). -#}
{% macro rfm_tag(row, rfm) -%}
select
    as_of,
    customer_id,
    '{{ row['tag_key'] }}' as tag_key,
    {% if row['value_type'] == 'label' -%} segment {%- else -%} toString(rfm_score) {%- endif %} as tag_value
from {{ rfm }}
{%- endmacro %}
