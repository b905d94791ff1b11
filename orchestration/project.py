"""The dbt project, as Dagster sees it: one DbtProject backs both the assets and the dbt resource."""

from __future__ import annotations

from dagster_dbt import DbtProject

from orchestration.settings import PROJECT_DIR

PROJECT = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR)
# `dagster dev` parses the project itself; elsewhere `make setup` has written target/manifest.json.
PROJECT.prepare_if_dev()
