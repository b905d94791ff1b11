{{ rejected_rows('base_customers') }}
