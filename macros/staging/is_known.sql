{#- Whether a row's key exists in another relation (an order item's order, an order's customer).
    The key is hashed to UInt64 on both sides: the set ClickHouse builds for IN then holds 8 bytes a key
    instead of a String, which made the order-items check 6.6 times faster at 20 M orders (BENCHMARKS.md).
    A false "known" needs a 64-bit collision between an unknown key and one of n known ones, n / 2^64
    (about 1e-12 at 20 M orders).
    among (a relation or a subquery holding column): only these keys are looked up, so the set is built of the
    few rejected keys an incremental run rechecks, not of every key of relation: at M (20 M orders, 979 rejected
    items) about a second and 125 MiB of base_order_items' night (BENCHMARKS.md). Not for the keys a run stages:
    they come from the `source` CTE, which ClickHouse would then evaluate twice, slower. -#}
{% macro is_known(column, relation, among=none) -%}
    (cityHash64({{ column }}) in (select cityHash64({{ column }}) from {{ relation }}
        {%- if among is not none %} where {{ is_known(column, among) }}{% endif %}))
{%- endmacro %}
