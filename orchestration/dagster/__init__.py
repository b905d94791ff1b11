"""The Dagster code location: definitions, assets, checks, schedules, resources, the dbt translator, and the in-process run of the nightly job."""
