{#- The quality checks as dbt generic tests (macros/tests/quality/), and how their outcomes are kept.

    Each check is a generic test on quality.tag_quality_figures for one tag of the current run
    (var run_id), generated from the catalogs by `tags catalog sync`
    (models/quality/generated/_quality_checks.yml). A check's test returns exactly one row, the
    tag's: the observed figure, the expected range, a message and `passed`; its fail_calc counts
    the rows not passed, so the test fails on that row, and a tag without figures fails too (a
    test that found no row to judge would pass silently). -#}

{#- The one row of a quality check of tag_key: observed, expected and message are SQL expressions
    over the tag's figures, passed the condition the check asserts. -#}
{% macro quality_check_row(model, tag_key, observed, expected, passed, message) -%}
with judged as (
    select {{ observed }} as judged_observed, {{ expected }} as judged_expected, {{ passed }} as judged_passed,
           {{ message }} as judged_message
    from {{ model }}
    where run_id = {{ run_id() }} and tag_key = '{{ tag_key }}'
)

select
    '{{ tag_key }}' as tag_key,
    count() as figure_rows,
    if(figure_rows = 1, any(judged_observed), null) as observed,
    any(judged_expected) as expected,
    figure_rows = 1 and any(judged_passed) as passed,
    if(figure_rows = 1, any(judged_message),
       concat(toString(figure_rows), ' rows of figures for tag {{ tag_key }} in run ', {{ run_id() }}, ', expected one'))
        as message
from judged
{%- endmacro %}

{#- A number as text the way the messages show it: 4 decimals (0.5000). -#}
{% macro quality_number(expression) -%}
    printf('%.4f', toFloat64({{ expression }}))
{%- endmacro %}

{#- A dbt var holding a threshold, as a Float64 literal; a clear error names the var when it is not a number. -#}
{% macro quality_threshold(name) -%}
    {%- set value = var(name) | string | trim -%}
    {%- if not modules.re.fullmatch('[0-9]*[.]?[0-9]+([eE][-+]?[0-9]+)?', value) -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be a non-negative number, got '" ~ value ~ "'") }}
    {%- endif -%}
    toFloat64({{ value }})
{%- endmacro %}

{#- on-run-end: keep the outcome of every quality check this invocation ran in quality.check_outcomes
    (quality.check_results shows them). The passed or failed row of a check comes from running its
    compiled SQL once more (one small read of the figures per check, in one INSERT); a check that
    errored or was skipped keeps dbt's message. Tags, check and blocking come from the test's meta. -#}
{% macro record_quality_checks(results) %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set outcomes = graph.nodes.values() | selectattr('name', 'equalto', 'check_outcomes') | list -%}
    {%- set selects = [] -%}
    {%- for result in results
          if result.node.resource_type == 'test' and 'quality_check' in result.node.tags -%}
        {%- set meta = result.node.config.meta -%}
        {%- set known = "select '" ~ result.node.name ~ "' as test_name, '" ~ meta.tag_key ~ "' as tag_key, '"
              ~ meta.check ~ "' as check, '" ~ result.status ~ "' as status, toUInt64(" ~ (result.failures or 0)
              ~ ") as failures, toUInt8(" ~ (1 if meta.blocking else 0) ~ ") as blocking, '" ~ meta.when_blocked
              ~ "' as when_blocked" -%}
        {%- if result.status in ('pass', 'fail', 'warn') and result.node.compiled_code -%}
            {%- do selects.append(known ~ ", toNullable(toFloat64(observed)) as observed, expected, toUInt8(passed) as passed,"
                  ~ " message from (" ~ result.node.compiled_code ~ ")") -%}
        {%- else -%}
            {%- do selects.append(known ~ ", cast(null as Nullable(Float64)) as observed, '' as expected, toUInt8(0) as passed, "
                  ~ quality_text(result.status ~ ": " ~ (result.message or 'no result')) ~ " as message") -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if selects -%}
        {%- if not outcomes or adapter.get_relation(outcomes[0].database, outcomes[0].schema, outcomes[0].alias) is none -%}
            {{ exceptions.raise_compiler_error("the quality checks ran but quality.check_outcomes, where their outcomes "
               ~ "are kept, does not exist: build the model check_outcomes first (a whole `dbt build` does)") }}
        {%- endif -%}
        {%- call statement('record_quality_checks') -%}
            insert into {{ outcomes[0].relation_name }}
                (run_id, as_of, checked_at, test_name, tag_key, check, status, failures, blocking, when_blocked, observed,
                 expected, passed, message)
            select {{ run_id() }}, {{ as_of() }}, now64(3), test_name, tag_key, check, status, failures, blocking,
                   when_blocked, observed, expected, passed, message
            from (
                {{ selects | join('\nunion all\n') }}
            )
        {%- endcall -%}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}

{#- A Python/Jinja string as a ClickHouse string literal. -#}
{% macro quality_text(text) -%}
    '{{ text | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}

{#- A pre-hook of the run-versioned quality tables: a repeated run (a retry of the same run id)
    replaces its rows instead of adding a second set. -#}
{% macro delete_this_run() -%}
    {%- if is_incremental() -%}
    alter table {{ this }} delete where run_id = {{ run_id() }} settings mutations_sync = 2
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
