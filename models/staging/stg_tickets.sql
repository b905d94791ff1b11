{{ stitched_rows('base_tickets', ['ticket_id', 'customer_id', 'opened_at', 'resolved_at', 'kind']) }}
