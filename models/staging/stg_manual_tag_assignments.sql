{{ stitched_rows('base_manual_tag_assignments', ['customer_id', 'tag_key', 'action', 'assigned_by', 'assigned_at', '_loaded_at']) }}
