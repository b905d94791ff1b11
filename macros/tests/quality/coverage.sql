{#- Check `coverage` (seeds/quality_checks.csv): the share of all customers with the tag is within
    the catalog's coverage_min..coverage_max. -#}
{% test coverage_between(model, tag_key) %}
{{ config(fail_calc='countIf(not passed)') }}
{{ quality_check_row(model, tag_key,
    observed='coverage',
    expected="if(coverage_min = coverage_max, concat('exactly ', toString(coverage_min)),
                 concat(toString(coverage_min), ' to ', toString(coverage_max)))",
    passed='coverage between coverage_min and coverage_max',
    message="concat('coverage ', " ~ quality_number('coverage') ~ ", ', expected ', judged_expected)") }}
{% endtest %}
