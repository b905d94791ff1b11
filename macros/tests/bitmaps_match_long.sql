{#- This run's bitmaps hold exactly the customers of its long table: per tag value, the bitmap's
    cardinality, its member_count and the long table's row count are one number. -#}
{% test bitmaps_match_long(model, long_model) %}
with long as (
    select tag_key, tag_value, count() as long_count
    from {{ long_model }}
    where run_id = {{ run_id() }}
    group by tag_key, tag_value
),

bitmaps as (
    select tag_key, tag_value, bitmapCardinality(members) as bitmap_count, member_count
    from {{ model }}
    where run_id = {{ run_id() }}
)

select *
from long
full outer join bitmaps using (tag_key, tag_value)
where long_count != bitmap_count or bitmap_count != member_count
{% endtest %}
