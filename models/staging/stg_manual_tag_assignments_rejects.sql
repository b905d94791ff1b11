{{ rejected_rows('base_manual_tag_assignments') }}
