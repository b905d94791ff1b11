{{ rejected_rows('base_order_items') }}
