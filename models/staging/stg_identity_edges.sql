{{ accepted_rows('base_identity_edges', ['id_type', 'normalized_id as id', 'other_id_type', 'normalized_other_id as other_id',
                                         'seen_at', '_loaded_at']) }}
