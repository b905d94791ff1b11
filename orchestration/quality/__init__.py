"""Quality beyond the nightly gate: catalog hygiene, review, the HTML report, freshness, row accounting, great-expectations."""
