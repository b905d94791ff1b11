{#- Where every raw row went, per contract table: raw rows (as staging sees them: not those of an
    unfinished load, hidden when the view is read), staged, rejected and why. `balanced` is the
    contract's promise that nothing is dropped silently; its dbt test fails the build otherwise, and
    `tags refresh` prints this view. A view: it counts raw as it is now, so rows appended since the
    last refresh show as not yet balanced until the next one stages them. -#}
{%- set tables = ['customers', 'orders', 'order_items', 'products', 'events', 'tickets', 'consents',
                  'manual_tag_assignments', 'identity_edges'] %}
{#- refs must be written out for dbt to see them; the guard keeps this list equal to the contract -#}
{%- if execute %}
    {%- set contract = graph.sources.values() | selectattr('source_name', 'equalto', 'raw')
                       | map(attribute='name') | list %}
    {%- if contract | sort != tables | sort %}
        {{ exceptions.raise_compiler_error("row_accounting covers " ~ tables | join(', ') ~ " but the raw contract "
            "(models/staging/_sources.yml) has " ~ contract | join(', ') ~ ": make the list in "
            "models/staging/row_accounting.sql the contract's tables") }}
    {%- endif %}
{%- endif %}
{#- customers: every account; stg_customers holds one row per stitched customer -#}
{%- set staged = {'customers': ref('stg_customer_accounts'), 'orders': ref('stg_orders'), 'order_items': ref('stg_order_items'),
                  'products': ref('stg_products'), 'events': ref('stg_events'), 'tickets': ref('stg_tickets'),
                  'consents': ref('stg_consents'), 'manual_tag_assignments': ref('stg_manual_tag_assignments'),
                  'identity_edges': ref('stg_identity_edges')} %}
{%- set rejected = {'customers': ref('stg_customers_rejects'), 'orders': ref('stg_orders_rejects'),
                    'order_items': ref('stg_order_items_rejects'), 'products': ref('stg_products_rejects'),
                    'events': ref('stg_events_rejects'), 'tickets': ref('stg_tickets_rejects'),
                    'consents': ref('stg_consents_rejects'),
                    'manual_tag_assignments': ref('stg_manual_tag_assignments_rejects'),
                    'identity_edges': ref('stg_identity_edges_rejects')} %}

with counted as (
{%- for table in tables %}
    select
        {{ loop.index }} as position,
        '{{ table }}' as raw_table,
        (select count() from {{ visible_raw_rows(table) }}) as raw_rows,
        (select count() from {{ staged[table] }}) as staged_rows,
        (select count() from {{ rejected[table] }}) as rejected_rows,
        (select cast((groupArray(reject_reason), groupArray(rows)), 'Map(String, UInt64)')
         from (select reject_reason, count() as rows from {{ rejected[table] }}
               group by reject_reason order by rows desc, reject_reason)) as reject_reasons
    {% if not loop.last %}union all{% endif %}
{%- endfor %}
)

select
    position,
    raw_table,
    raw_rows,
    staged_rows,
    rejected_rows,
    reject_reasons,
    raw_rows = staged_rows + rejected_rows as balanced
from counted
