"""The dbt project, as Dagster sees it: one DbtProject backs both the assets and the dbt resource."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.settings import PROJECT_DIR

# The dbt installed beside this Python, also when the virtualenv is not activated (`dagster dev`
# parses the project with the `dbt` it finds on PATH).
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])

PROJECT = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR)
# `dagster dev` parses the project itself; elsewhere `make setup` has written target/manifest.json.
PROJECT.prepare_if_dev()
