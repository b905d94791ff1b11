{#- Check `stability` (seeds/quality_checks.csv): the share of the tag's customers (tagged in this
    run or the previous published one) whose value changed is at most var quality_stability_max.
    Without a previous published run it is NULL and passes. -#}
{% test stability_below(model, tag_key) %}
{{ config(fail_calc='countIf(not passed)') }}
{%- set stability_max = quality_threshold('quality_stability_max') %}
{{ quality_check_row(model, tag_key,
    observed='changed_share',
    expected="concat('at most ', toString(" ~ stability_max ~ "))",
    passed='changed_share is null or changed_share <= ' ~ stability_max,
    message="if(changed_share is null, 'stability: no previous published run to compare with',
                concat('share of its customers whose value changed ', " ~ quality_number('changed_share')
                       ~ ", ', expected ', judged_expected))") }}
{% endtest %}
