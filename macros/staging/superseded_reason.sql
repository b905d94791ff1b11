{#- Among valid rows, the latest version of a key wins; older versions are rejected as superseded.
    Invalid rows do not take part, so a broken correction never hides the good version before it. -#}
{% macro superseded_reason(invalid_reason, key, version_order) -%}
    if({{ invalid_reason }} != '', {{ invalid_reason }},
       if(row_number() over (partition by {{ key }}, {{ invalid_reason }} != '' order by {{ version_order }}) > 1,
          'superseded by a later version of the same {{ key }}', ''))
{%- endmacro %}
