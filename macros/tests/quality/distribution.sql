{#- Check `distribution` (seeds/quality_checks.csv): the population stability index of the tag's
    values against the previous published run is at most var quality_psi_max. Without a previous
    published run there is nothing to compare with (psi is NULL) and it passes. -#}
{% test psi_below(model, tag_key) %}
{{ config(fail_calc='countIf(not passed)') }}
{%- set psi_max = quality_threshold('quality_psi_max') %}
{{ quality_check_row(model, tag_key,
    observed='psi',
    expected="concat('at most ', toString(" ~ psi_max ~ "))",
    passed='psi is null or psi <= ' ~ psi_max,
    message="if(psi is null, 'distribution: no previous published run to compare with',
                concat('PSI against the previous run ', " ~ quality_number('psi') ~ ", ', expected ', judged_expected))") }}
{% endtest %}
