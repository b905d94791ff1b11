{{ stitched_rows('base_orders', ['order_id', 'customer_id', 'ordered_at', 'status', 'amount', 'paid_at', 'shipped_at', 'delivered_at', 'completed_at', 'channel']) }}
