{#- A value of this run (as_of, cutoff, run_id, held_tags, lane, new_tags): from the environment variable
    TAGS_DBT_RUN, a JSON object the pipeline sets for each dbt invocation (orchestration/dagster/dbt_runner.py),
    else dbt's var of that name (`--vars` of a dbt run by hand, or the default in dbt_project.yml).
    Why not --vars: dbt parses the whole project again whenever they differ from the last invocation's, and a
    run's values differ every night (6.7 s against 2.7 s for a parse kept from the last run, at any scale).
    The variable is read only when executing, so the parse never depends on it and dbt keeps its partial parse. -#}
{% macro run_var(name, default=none) -%}
    {%- if execute -%}
        {%- set run = fromjson(env_var('TAGS_DBT_RUN', '{}')) -%}
        {%- if name in run -%}
            {{ return(run[name]) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(var(name, default)) }}
{%- endmacro %}
