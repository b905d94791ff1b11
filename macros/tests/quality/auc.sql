{#- Check `auc` (seeds/quality_checks.csv), model tags: this run's model, validated on held-out customers by the
    model step (orchestration/models/model_tags.py), reached the catalog's min_auc. It reads the model's row in
    model_versions rather than the figures: a run with no row (the step did not run) or a model that could not be
    trained (its error is the message) fails. -#}
{% test auc_at_least(model, tag_key) %}
{{ config(fail_calc='countIf(not passed)') }}
{{ quality_check_row(source('model_runs', 'model_versions'), tag_key,
    observed='validation_auc',
    expected="concat('at least ', toString(min_auc))",
    passed='ifNull(validation_auc >= min_auc, false)',
    message="if(error != '', concat('no model: ', error),
                concat('AUC on ', toString(validation_rows), ' held-out customers ', " ~ quality_number('validation_auc')
                       ~ ", ', expected ', judged_expected, ' (model ', version,
                       if(shuffle_target_seed is null, '', ', target shuffled'), ')'))") }}
{% endtest %}
