{{ stitched_rows('base_events', ['customer_id', 'event_at', 'event_type', 'channel', 'campaign_id', 'product_category', 'message_id']) }}
