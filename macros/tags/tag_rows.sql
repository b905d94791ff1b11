{#- One tag's rows for all_tags: the tag model's, or, when the run holds the tag back (var held_tags:
    a failed blocking check of a `when_blocked = hold_tag` tag, orchestration/publishing/holds.py), the rows BI
    reads now, carried into this run unchanged. The store is named, not ref'd: all_tags feeds it. -#}
{% macro tag_rows(tag_key) -%}
    {%- if tag_key in run_var('held_tags', []) -%}
        {#- a subquery: the alias as_of would otherwise stand for tonight's date in the filter -#}
        select {{ as_of() }} as as_of, customer_id, '{{ tag_key }}' as tag_key, tag_value
        from (
            select customer_id, tag_value from tag_store.tag_snapshots
            where (as_of, run_id) global in {{ current_published_run() }} and tag_key = '{{ tag_key }}'
        )
    {%- else -%}
        select as_of, customer_id, '{{ tag_key }}' as tag_key, cast(tag_value as String) as tag_value
        from {{ ref('tag_' ~ tag_key) }}
    {%- endif -%}
{%- endmacro %}
