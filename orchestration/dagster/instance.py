"""The Dagster instance runs are recorded in, whoever starts them: `tags refresh`, `make run`, the schedule or the UI.

One directory (settings.dagster_home(): DAGSTER_HOME, else .dagster in the project) with the project's dagster.yaml
in it, so `dagster dev` started by `tags ui` shows every run of the command line with its checks, materializations
and their metadata, and its history plots; and the run queue's one-at-a-time rule (dagster.yaml) applies to both.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from orchestration.settings import PROJECT_DIR, dagster_home

INSTANCE_CONFIG = PROJECT_DIR / "dagster.yaml"


def prepared_home() -> Path:
    """The instance directory, named in DAGSTER_HOME for this process and the ones it starts. A new one gets the
    project's dagster.yaml; an existing one keeps its own (production may point its storage at Postgres there)."""
    home = dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        shutil.copyfile(INSTANCE_CONFIG, config)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def instance():
    """The persistent instance (DagsterInstance.get() reads DAGSTER_HOME)."""
    import dagster as dg

    prepared_home()
    return dg.DagsterInstance.get()
