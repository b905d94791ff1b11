{{ rejected_rows('base_tickets') }}
