{#- The as_of date as a ClickHouse Date literal. var('as_of') is YYYY-MM-DD; empty means today. -#}
{% macro as_of() -%}
    {%- set raw_value = var('as_of', '') | string | trim -%}
    {%- if raw_value == '' -%}
        {%- set raw_value = modules.datetime.date.today().isoformat() -%}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', raw_value) -%}
        {{ exceptions.raise_compiler_error("var as_of must be a date written YYYY-MM-DD, got '" ~ raw_value ~ "'") }}
    {%- endif -%}
    toDate('{{ raw_value }}')
{%- endmacro %}

{#- End of the as_of day (exclusive upper bound for facts), as a DateTime literal. -#}
{% macro as_of_end() -%}
    (toDateTime({{ as_of() }}) + toIntervalDay(1))
{%- endmacro %}

{#- Events and messages matter to customer_features for 90 days at most (enquiries, messages and e-mails
    sent): their per-day and per-message models keep only that window, so their cost follows the window,
    not the history. -#}
{% macro longest_event_window_start() -%}
    toDateTime({{ as_of() }} - 90)
{%- endmacro %}
