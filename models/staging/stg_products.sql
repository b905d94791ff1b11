{{ accepted_rows('base_products', ['product_id', 'category', 'brand', 'list_price']) }}
