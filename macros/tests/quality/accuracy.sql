{#- Check `accuracy` (seeds/quality_checks.csv): no sampled customer's tag differs from the
    independent recomputation (models/quality/accuracy_mismatches.sql); the message names up to ten. -#}
{% test accuracy_agrees(model, tag_key) %}
{{ config(fail_calc='countIf(not passed)') }}
{{ quality_check_row(model, tag_key,
    observed='mismatches',
    expected="'exactly 0'",
    passed='ifNull(mismatches, 0) = 0',
    message="concat(toString(ifNull(mismatches, 0)), ' of ', toString(ifNull(sampled, 0)),
                    ' sampled customers disagree with the independent recomputation',
                    if(empty(mismatch_examples), '', concat(': ', arrayStringConcat(mismatch_examples, '; '))))") }}
{% endtest %}
