"""The project's dbt resource (orchestration/dagster/project.py InstalledDbtResource): dagster-dbt's own resource
without its `dbt --version` and in-process adapter at every start, running the same dbt; and the housekeeping of
target/ (dbt_runner.prune_invocations)."""

import datetime as dt
import os
import re
import subprocess

import dagster_dbt.core.resource
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
    installed = re.search(r"installed:\s*(\S+)", printed)
    assert installed, printed
    assert str(dbt_runner.resource()._cli_version) == installed.group(1)


def _fake_invocations(target, names):
    """Directories named like dagster-dbt's, the first name the newest."""
    for age, name in enumerate(reversed(names)):
        (target / name).mkdir(parents=True)
        (target / name / "dbt.log").write_text("log")
        os.utime(target / name, (1_000_000 + age, 1_000_000 + age))


def test_a_dbt_command_runs_through_it_without_version_call_or_adapter(tmp_path, monkeypatch):
    started, loaded = [], []
    # tripwires on dagster-dbt's own ways: neither may run (dagster-dbt swallows a failing adapter load, so record)
    monkeypatch.setattr(dagster_dbt.core.resource, "check_output", lambda *a, **k: started.append(a) or b"dbt 0.0.0")
    monkeypatch.setattr(DbtCliResource, "_initialize_dbt_core_adapter", lambda self, args: loaded.append(args))
    monkeypatch.setattr(dbt_runner, "TARGET_DIR", tmp_path)
    old = [f"{i:07x}" for i in range(dbt_runner.KEPT_INVOCATIONS + 2)]
    _fake_invocations(tmp_path, old)

    invocation = dbt_runner.cli(dbt_runner.resource(), dbt_runner.dbt_args("parse"),
                                dbt_runner.run_values(dt.date(2026, 11, 23)), raise_on_error=False,
                                target_path=tmp_path / "parsed")
    invocation.wait()

    assert invocation.is_successful(), invocation.get_error()
    assert (tmp_path / "parsed" / "manifest.json").stat().st_size > 0
    assert started == [] and loaded == [] and invocation.adapter is None
    # the dbt command first removed the two oldest of the earlier commands' directories
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(old[:dbt_runner.KEPT_INVOCATIONS] + ["parsed"])


def test_old_invocation_directories_go_by_kind_and_the_rest_of_target_stays(tmp_path):
    nightly = [f"dbt_models-{i:07x}-abcdef{i % 10}" for i in range(33)]
    bare = [f"{i:07x}" for i in range(40)]  # outside a step: freshness, the intraday lane (one a minute at most)
    _fake_invocations(tmp_path, bare + ["published_tags_freshness-0d448ca-2217732"])
    _fake_invocations(tmp_path, nightly)
    for other in ("compiled", "run", "cluster"):
        (tmp_path / other).mkdir()
    (tmp_path / "partial_parse.msgpack").write_text("kept parse")

    removed = dbt_runner.prune_invocations(tmp_path, keep=30)

    # the forty intraday runs since evict none of the night's builds: each kind keeps its newest 30
    assert sorted(removed) == sorted(nightly[30:] + bare[30:])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        nightly[:30] + bare[:30] + ["published_tags_freshness-0d448ca-2217732", "compiled", "run", "cluster",
                                    "partial_parse.msgpack"])
    assert dbt_runner.prune_invocations(tmp_path / "missing") == []
    assert dbt_runner.prune_invocations(tmp_path / "partial_parse.msgpack") == []  # a file where target/ should be
