{#- A catalog rule with its {placeholders} replaced by the row's params ("name=value;name=value").
    The catalog was validated before the run (`tags catalog validate`), so a placeholder left over
    here is a catalog the validator let through: fail loudly rather than build a wrong tag. -#}
{% macro _render_rule(row) -%}
    {#- a namespace, because a plain set inside a for loop does not outlive the loop -#}
    {%- set rendered = namespace(rule=row['rule']) -%}
    {%- for pair in (row['params'] or '').split(';') if '=' in pair -%}
        {%- set name, value = pair.split('=', 1) -%}
        {%- set rendered.rule = rendered.rule.replace('{' ~ name.strip() ~ '}', value.strip()) -%}
    {%- endfor -%}
    {%- set rule = rendered.rule -%}
    {%- if modules.re.search('[{][a-z_]+[}]', rule) -%}
        {{ exceptions.raise_compiler_error("tag_catalog row '" ~ row['tag_key'] ~ "', column rule: placeholder " ~ modules.re.search('[{][a-z_]+[}]', rule).group(0) ~ " has no value in params") }}
    {%- endif -%}
    {{ return(rule) }}
{%- endmacro %}
