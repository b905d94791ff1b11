"""The Dagster code location follows from the dbt manifest alone: a catalog edited but not yet synced
(`tags catalog sync`) must not stop it from loading."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.dagster.partitions import first_as_of
from orchestration.settings import PROJECT_DIR

LOAD = """
import json
import dagster as dg
from orchestration.dagster import assets, resources, schedules
job = schedules.nightly_job()
defs = dg.Definitions(assets=[assets.dbt_models, assets.published_tags, assets.quality_report], jobs=[job],
                      schedules=[schedules.nightly_schedule(job)], resources=resources.resources())
graph = defs.get_repository_def().asset_graph
deps = graph.get(dg.AssetKey("published_tags")).parent_keys
print(json.dumps({"tags": sorted(k.to_user_string() for k in assets.TAG_ASSETS),
                  "published_deps": sorted(k.to_user_string() for k in deps),
                  "partitions": defs.resolve_job_def(schedules.JOB_NAME).partitions_def.get_first_partition_key()}))
"""


@pytest.fixture()
def project_with_unsynced_catalog(tmp_path) -> Path:
    """A copy of the project whose catalog file no longer parses (a renamed column), the generated dbt
    files and target/manifest.json as they were."""
    manifest = PROJECT_DIR / "target" / "manifest.json"
    if not manifest.exists():
        pytest.fail(f"{manifest} is missing: run `dbt parse` (make setup) first")
    for name in ("orchestration", "models", "macros", "seeds"):
        shutil.copytree(PROJECT_DIR / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(PROJECT_DIR / name, tmp_path / name)
    (tmp_path / "target").mkdir()
    shutil.copy(manifest, tmp_path / "target" / "manifest.json")
    catalog = tmp_path / "seeds" / "tag_catalog.csv"
    catalog.write_text(catalog.read_text().replace("tag_key,", "tag_kee,", 1) + "half a row,\n")
    return tmp_path


def load(project: Path, module_code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(project)}
    env.pop("DAGSTER_IS_DEV_CLI", None)
    return subprocess.run([sys.executable, "-c", module_code], cwd=project, env=env, capture_output=True, text=True,
                          timeout=300)


def test_assets_schedule_and_resources_load_from_the_manifest_with_an_unsynced_catalog(project_with_unsynced_catalog):
    check = load(project_with_unsynced_catalog, "from orchestration.catalog import catalog\ncatalog.load()")
    assert check.returncode != 0, "the edited catalog should not load"
    result = load(project_with_unsynced_catalog, LOAD)
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    manifest = json.loads((project_with_unsynced_catalog / "target" / "manifest.json").read_text())
    tag_models = sorted(f"tag_models/{n['name']}" for n in manifest["nodes"].values()
                        if n["resource_type"] == "model" and "tag_key" in (n["config"].get("meta") or {}))
    assert loaded["tags"] == tag_models and len(tag_models) > 30
    assert set(tag_models) <= set(loaded["published_deps"])
    assert loaded["partitions"] == first_as_of().isoformat()


def test_the_whole_code_location_loads_with_an_unsynced_catalog(project_with_unsynced_catalog):
    result = load(project_with_unsynced_catalog, "from orchestration.dagster.definitions import defs\ndefs.get_repository_def()")
    assert result.returncode == 0, result.stderr[-3000:]
