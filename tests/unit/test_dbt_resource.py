"""The project's dbt resource (orchestration/dagster/project.py InstalledDbtResource): dagster-dbt's own resource
without its `dbt --version` and in-process adapter at every start, running the same dbt."""

import os
import re
import subprocess

from dagster_dbt import DbtCliResource

from orchestration.dagster import dbt_runner
from orchestration.dagster.project import DBT_EXECUTABLE, InstalledDbtResource


def test_the_hooks_it_overrides_are_still_dagster_dbts():
    # an upgrade of dagster-dbt that renames them would silently bring both start-up costs back
    assert "_cli_version" in vars(DbtCliResource)
    assert callable(getattr(DbtCliResource, "_initialize_dbt_core_adapter", None))
    assert "_cli_version" in vars(InstalledDbtResource)
    assert "_initialize_dbt_core_adapter" in vars(InstalledDbtResource)


def test_its_version_is_the_version_the_dbt_executable_reports():
    printed = subprocess.run([DBT_EXECUTABLE, "--version"], capture_output=True, text=True, check=True).stdout
    installed = re.search(r"installed:\s*(\d+\.\d+\.\d+)", printed) or re.search(r"(\d+\.\d+\.\d+)", printed)
    assert str(dbt_runner.resource()._cli_version) == installed.group(1)


def test_a_dbt_command_runs_through_it_without_an_adapter_in_this_process(tmp_path):
    invocation = dbt_runner.resource().cli(dbt_runner.dbt_args("parse"), raise_on_error=False, target_path=tmp_path)
    invocation.wait()
    assert invocation.is_successful(), invocation.get_error()
    assert invocation.adapter is None
    assert (tmp_path / "manifest.json").stat().st_size > 0


def test_old_invocation_directories_go_and_the_rest_of_target_stays(tmp_path):
    names = [f"dbt_models-{i:07x}-abcdef{i % 10}" for i in range(33)] + ["1a2b3c4", "published_tags_freshness-0d448ca-2217732"]
    for age, name in enumerate(reversed(names)):  # the first name is the newest
        (tmp_path / name).mkdir()
        (tmp_path / name / "dbt.log").write_text("log")
        os.utime(tmp_path / name, (1_000_000 + age, 1_000_000 + age))
    for other in ("compiled", "run", "cluster"):
        (tmp_path / other).mkdir()
    (tmp_path / "partial_parse.msgpack").write_text("kept parse")

    removed = dbt_runner.prune_invocations(tmp_path, keep=30)

    assert sorted(removed) == sorted(names[30:])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[:30] + ["compiled", "run", "cluster",
                                                                               "partial_parse.msgpack"])
    assert dbt_runner.prune_invocations(tmp_path / "missing") == []
    assert dbt_runner.prune_invocations(tmp_path / "partial_parse.msgpack") == []  # a file where target/ should be
