{{ accepted_rows('base_customers', ['customer_id', 'signup_at', 'country', 'city', 'source_channel', 'member_tier', 'birth_year', 'segment', 'email', 'phone', 'loyalty_points']) }}
