{{ rejected_rows('base_orders') }}
