{{ stitched_rows('base_consents', ['customer_id', 'channel', 'granted', 'updated_at']) }}
