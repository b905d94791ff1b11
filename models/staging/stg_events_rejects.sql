{{ rejected_rows('base_events') }}
