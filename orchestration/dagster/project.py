"""The dbt project, as Dagster sees it: one DbtProject backs both the assets and the dbt resource."""

from __future__ import annotations

import sys
from functools import cached_property
from pathlib import Path

from dagster_dbt import DagsterDbtProjectPreparer, DbtCliResource, DbtProject
from dagster_dbt.compat import DBT_PYTHON_VERSION

from orchestration.settings import PROJECT_DIR

# The dbt installed beside this Python, named explicitly wherever dbt runs, so it is found also when the
# virtualenv is not activated (dagster-dbt's default is whichever `dbt` is first on PATH).
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))


class InstalledDbtResource(DbtCliResource):
    """dagster-dbt's DbtCliResource running DBT_EXECUTABLE, without two start-up costs that buy this project
    nothing: before each run's first dbt command, dagster-dbt starts `dbt --version` (2.2-2.4 s) to learn which dbt
    it runs, and before every dbt command it loads dbt's adapter and every macro in this process (0.7-1.9 s), for
    fetch_row_counts() and fetch_column_metadata(), which the project does not call. The dbt it runs is the
    dbt-core installed beside this Python, so its version is that package's; without an adapter dagster-dbt runs
    dbt exactly as before (what it does when loading the adapter fails). Both hooks are dagster-dbt's own
    (tests/unit/test_dbt_resource.py fails if an upgrade renames them)."""

    @cached_property
    def _cli_version(self):
        # the installed dbt-core's version, as dagster-dbt reads it; without dbt-core, dagster-dbt's own way
        return DBT_PYTHON_VERSION or super()._cli_version

    def _initialize_dbt_core_adapter(self, args):
        return None


class _Preparer(DagsterDbtProjectPreparer):
    """dagster-dbt's preparer (dbt parse under `dagster dev`), running DBT_EXECUTABLE."""

    def prepare(self, project: DbtProject) -> None:
        InstalledDbtResource(project_dir=project, dbt_executable=DBT_EXECUTABLE).cli(
            ["parse", "--quiet"], target_path=project.target_path).wait()


PROJECT = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR)
# `dagster dev` parses the project itself (what PROJECT.prepare_if_dev() does, with DBT_EXECUTABLE: DbtProject
# takes no preparer); elsewhere `make setup` or `tags refresh` has written target/manifest.json.
_Preparer().prepare_if_dev(PROJECT)
