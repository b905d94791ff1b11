{{ rejected_rows('base_consents') }}
