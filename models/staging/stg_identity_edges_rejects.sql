{{ rejected_rows('base_identity_edges') }}
