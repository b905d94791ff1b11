{{ rejected_rows('base_products') }}
