{#- Whether a row's key exists in another relation (an order item's order, an order's customer).
    The key is hashed to UInt64 on both sides: the set ClickHouse builds for IN then holds 8 bytes a key
    instead of a String, which made the order-items check 6.6 times faster at 20 M orders (BENCHMARKS.md).
    A false "known" needs a 64-bit collision between an unknown key and one of n known ones, n / 2^64
    (about 1e-12 at 20 M orders). -#}
{% macro is_known(column, relation) -%}
    (cityHash64({{ column }}) in (select cityHash64({{ column }}) from {{ relation }}))
{%- endmacro %}
