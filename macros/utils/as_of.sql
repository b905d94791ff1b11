{#- The as_of date as a ClickHouse Date literal. run_var('as_of') (macros/utils/run_var.sql) is YYYY-MM-DD; empty means today. -#}
{% macro as_of() -%}
    toDate('{{ _as_of_date().isoformat() }}')
{%- endmacro %}

{% macro _as_of_date() -%}
    {%- set raw_value = run_var('as_of', '') | string | trim -%}
    {%- if raw_value == '' -%}
        {%- set raw_value = modules.datetime.date.today().isoformat() -%}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', raw_value) -%}
        {{ exceptions.raise_compiler_error("var as_of must be a date written YYYY-MM-DD, got '" ~ raw_value ~ "'") }}
    {%- endif -%}
    {{ return(modules.datetime.date.fromisoformat(raw_value)) }}
{%- endmacro %}

{#- The end of the as_of day (midnight after it), as a Python datetime. -#}
{% macro _as_of_end_instant() -%}
    {%- set day = _as_of_date() -%}
    {{ return(modules.datetime.datetime(day.year, day.month, day.day) + modules.datetime.timedelta(days=1)) }}
{%- endmacro %}

{#- The run's cutoff: the one instant it is evaluated at, stored with the run (tag_store.publish_log).
    Staging accepts the facts before it; tags whose catalog row says evaluated_at = cutoff count their
    windows back from it. run_var('cutoff') is 'YYYY-MM-DD HH:MM:SS' in the warehouse's time zone, after the
    start of the as_of day; empty means the end of the as_of day (a replay by date is deterministic).
    The nightly schedule passes its tick: the 02:00 run of day X is as_of X-1, cutoff X 02:00. -#}
{% macro cutoff() -%}
    toDateTime('{{ _cutoff_instant().strftime('%Y-%m-%d %H:%M:%S') }}')
{%- endmacro %}

{% macro _cutoff_instant() -%}
    {%- set day = _as_of_date() -%}
    {%- set day_start = modules.datetime.datetime(day.year, day.month, day.day) -%}
    {%- set raw_value = run_var('cutoff', '') | string | trim -%}
    {%- if raw_value == '' -%}
        {{ return(_as_of_end_instant()) }}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2})?', raw_value) -%}
        {{ exceptions.raise_compiler_error("var cutoff must be written 'YYYY-MM-DD HH:MM:SS', got '" ~ raw_value ~ "'") }}
    {%- endif -%}
    {%- set instant = modules.datetime.datetime.fromisoformat(raw_value.replace(' ', 'T')) -%}
    {%- if instant <= day_start -%}
        {{ exceptions.raise_compiler_error("var cutoff " ~ raw_value ~ " is not after the start of as_of " ~ day.isoformat()) }}
    {%- endif -%}
    {{ return(instant) }}
{%- endmacro %}

{#- The instant the whole-day windows end at: the end of the as_of day, or the cutoff if that comes first
    (a run of today before midnight never counts back from a future end of day). -#}
{% macro day_end() -%}
    toDateTime('{{ ([_as_of_end_instant(), _cutoff_instant()] | min).strftime('%Y-%m-%d %H:%M:%S') }}')
{%- endmacro %}

{#- Events and messages matter to customer_features for 90 days at most (enquiries, messages and e-mails
    sent): their per-day and per-message models keep only that window, so their cost follows the window,
    not the history. -#}
{% macro longest_event_window_start() -%}
    toDateTime({{ as_of() }} - 90)
{%- endmacro %}
