{#- Check `auc` (seeds/quality_checks.csv), model tags: the model behind the tag's rows, validated on held-out
    customers by the model step (orchestration/models/model_tags.py), reached the catalog's min_auc. It reads the
    tag's newest row in model_versions rather than the figures: in a night that is the model the step trained
    before the tag was built; in a run that did not build the tag (`tags refresh --select` of other tags), the one
    that scored the rows it still holds. A model that could not be trained fails, its error the message; no model
    ever trained fails as "0 rows of figures". -#}
{% test auc_at_least(model, tag_key) %}
{{ config(fail_calc='countIf(not passed)') }}
{%- set newest_model -%}
(select * replace ({{ run_id() }} as run_id) from {{ source('model_runs', 'model_versions') }}
 where tag_key = '{{ tag_key }}' order by trained_at desc limit 1)
{%- endset %}
{{ quality_check_row(newest_model, tag_key,
    observed='validation_auc',
    expected="concat('at least ', toString(min_auc))",
    passed='ifNull(validation_auc >= min_auc, false)',
    message="if(error != '', concat('no model: ', error),
                concat('AUC on ', toString(validation_rows), ' held-out customers ', " ~ quality_number('validation_auc')
                       ~ ", ', expected ', judged_expected, ' (model ', version,
                       if(shuffle_target_seed is null, '', ', target shuffled'), ')'))") }}
{% endtest %}
