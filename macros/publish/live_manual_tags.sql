{#- The manual tags of the current published run, as a subquery of tag_key: the published views show their
    members live (tags.manual_tag_members) instead of the run's rows; not a tag the run held back (stale), which
    shows its last published members rather than unchecked ones. -#}
{% macro live_manual_tag_keys() -%}
    (select tag_key from {{ ref('tag_catalog_snapshots') }}
     where (as_of, run_id) in {{ current_published_run() }} and method = 'manual' and status != 'archived'
       and stale = 0)
{%- endmacro %}
