"""The dbt project, as Dagster sees it: one DbtProject backs both the assets and the dbt resource."""

from __future__ import annotations

import sys
from pathlib import Path

from dagster_dbt import DagsterDbtProjectPreparer, DbtProject

from orchestration.settings import PROJECT_DIR

# The dbt installed beside this Python, named explicitly wherever dbt runs, so it is found also when the
# virtualenv is not activated (dagster-dbt's default is whichever `dbt` is first on PATH).
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))


class _Preparer(DagsterDbtProjectPreparer):
    """dagster-dbt's preparer (dbt parse under `dagster dev`), running DBT_EXECUTABLE."""

    def prepare(self, project: DbtProject) -> None:
        from dagster_dbt import DbtCliResource

        DbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE).cli(
            ["parse", "--quiet"], target_path=project.target_path).wait()


PROJECT = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR)
# `dagster dev` parses the project itself (what PROJECT.prepare_if_dev() does, with DBT_EXECUTABLE: DbtProject
# takes no preparer); elsewhere `make setup` or `tags refresh` has written target/manifest.json.
_Preparer().prepare_if_dev(PROJECT)
