{#- Identifier types identity stitching knows (raw.identity_edges' id_type and other_id_type). -#}
{% macro identifier_types() -%}
    ('customer_id', 'email', 'phone', 'union_id')
{%- endmacro %}

{#- An identifier as it is compared: e-mails in lower case, phone numbers without the spaces, dashes, dots and
    brackets people type, every identifier trimmed; so "Ana@Shop.com " and "ana@shop.com" are one identifier. -#}
{% macro normalized_identifier(id_type, id) -%}
    multiIf({{ id_type }} = 'email', lower(trimBoth({{ id }})),
            {{ id_type }} = 'phone', replaceRegexpAll({{ id }}, '[\\s().-]', ''),
            trimBoth({{ id }}))
{%- endmacro %}

{#- An identifier's key in the identity graph: the type and the normalized id hashed to UInt64 (64-bit: a false
    link needs a collision among the identifiers, about n^2 / 2^65, 1e-7 at 20 M identifiers). -#}
{% macro identifier_key(id_type, id) -%}
    cityHash64({{ id_type }}, {{ id }})
{%- endmacro %}
