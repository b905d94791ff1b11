{{ accepted_rows('base_order_items', ['order_id', 'product_id', 'quantity', 'unit_price']) }}
