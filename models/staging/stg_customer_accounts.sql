{#- Every accepted customer row, one per customer_id: the accounts identity stitching joins into customers
    (identity/stitched_customers) and exports take each channel's contact from. stg_customers holds one row per
    stitched customer. -#}
{{ accepted_rows('base_customers', ['customer_id', 'signup_at', 'country', 'city', 'source_channel', 'member_tier', 'birth_year', 'segment', 'email', 'phone', 'loyalty_points']) }}
