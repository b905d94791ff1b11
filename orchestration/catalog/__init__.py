"""The tag catalog: its rows and their validation, the dbt files generated from it, manual tag assignments."""
