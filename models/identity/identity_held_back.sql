{#- The identifiers stitching held back (int_identifiers): linked to more than var('identity_max_links') others,
    each joins nobody. A shared test phone or a shop's default e-mail belongs here; a real person's identifier here
    means the limit is too low for your data. -#}
select id_type, id, links, first_seen_at, last_seen_at
from {{ ref('int_identifiers') }}
where held_back
