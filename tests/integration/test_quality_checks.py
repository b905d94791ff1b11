"""The quality checks as dbt tests, on a real warehouse: `dbt build` alone fails on a blocking figure
out of range and names tag and figure; a new kind of check is one test macro and one catalog row."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration import settings
from orchestration.settings import PROJECT_DIR
from tests.integration.known import AS_OF

DBT = str(Path(sys.executable).with_name("dbt"))
PYTHON = sys.executable
LEFT_OUT = shutil.ignore_patterns(".git", ".venv", "target", "logs", ".warehouse", "reports", "dbt_packages",
                                  "__pycache__", ".pytest_cache")


def rows(client, sql: str) -> list[tuple]:
    return client.query(sql).result_rows


@pytest.fixture
def project_copy(tmp_path) -> Path:
    """This project (code, models, catalogs) copied to a temporary directory, to change without touching ours."""
    copy = tmp_path / "project"
    shutil.copytree(PROJECT_DIR, copy, ignore=LEFT_OUT)
    return copy


def run_in(project: Path, *args: str) -> subprocess.CompletedProcess:
    """A command run in the copied project, its code first on the path, against this module's warehouse."""
    env = {**os.environ, "PYTHONPATH": str(project),
           settings.HANDED_DOWN_PASSWORD_VARIABLE: settings.warehouse_password() or ""}
    return subprocess.run(list(args), cwd=project, env=env, capture_output=True, text=True, timeout=1800)


def dbt_in(project: Path, *args: str, variables: dict) -> subprocess.CompletedProcess:
    return run_in(project, DBT, *args, "--project-dir", str(project), "--profiles-dir", str(project),
                  "--vars", json.dumps(variables))


def edit_csv(path: Path, change) -> None:
    with path.open(newline="") as file:
        lines = list(csv.DictReader(file))
    lines = change(lines)
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(lines[0]))
        writer.writeheader()
        writer.writerows(lines)


def test_dbt_build_alone_fails_on_a_blocking_figure_out_of_range_naming_tag_and_figure(demo_night, client,
                                                                                        project_copy):
    coverage = rows(client, "SELECT coverage FROM quality.tag_quality_figures WHERE tag_key = 'vip' "
                            f"AND run_id = '{demo_night.run_id}'")[0][0]
    # vip blocks on coverage: the catalog now expects at most half of what it has
    edit_csv(project_copy / "seeds" / "tag_catalog.csv",
             lambda lines: [{**line, "coverage_max": f"{coverage / 2:.6f}"} if line["tag_key"] == "vip" else line
                            for line in lines])
    run_id = "dbt-build-alone"
    # the model tags read the scores their run's model step wrote (the nightly's dbt step runs it between two dbt
    # invocations): here it runs first (it finds the model tags in the parsed manifest), so that dbt alone builds
    # every node
    assert dbt_in(project_copy, "parse", variables={"as_of": AS_OF.isoformat(), "run_id": run_id}).returncode == 0
    step = run_in(project_copy, PYTHON, "-c", "import datetime as dt; from orchestration.models import model_tags; "
                  "from orchestration.warehouse import db; "
                  f"model_tags.run(db.client(), dt.date.fromisoformat('{AS_OF.isoformat()}'), '{run_id}')")
    assert step.returncode == 0, step.stderr[-3000:]
    result = dbt_in(project_copy, "build", variables={"as_of": AS_OF.isoformat(), "run_id": run_id})
    assert result.returncode == 1, result.stdout[-3000:]
    output = result.stdout
    assert "FAIL 1 quality__vip__coverage" in output, output[-3000:]
    # nothing else failed: dbt counts the one failed test as its one error
    assert "ERROR=1 " in output, output[-1500:]
    [(passed, blocking, observed, expected, message)] = rows(
        client, "SELECT passed, blocking, observed, expected, message FROM quality.check_results "
                f"WHERE run_id = '{run_id}' AND tag_key = 'vip' AND check = 'coverage'")
    assert (passed, blocking) == (0, 1)
    assert observed == pytest.approx(coverage)
    assert expected == f"0.001 to {coverage / 2:.6f}".rstrip("0")
    assert message == f"coverage {coverage:.4f}, expected {expected}"


def test_a_new_kind_of_check_is_one_test_macro_and_one_catalog_row(demo_night, client, project_copy):
    (project_copy / "macros" / "tests" / "quality" / "members.sql").write_text(
        "{% test members_at_most(model, tag_key) %}\n"
        "{{ config(fail_calc='countIf(not passed)') }}\n"
        "{{ quality_check_row(model, tag_key, observed='members', "
        "expected=\"concat('at most ', toString(\" ~ var('quality_members_max') ~ \"))\", "
        "passed='members <= ' ~ var('quality_members_max'), "
        "message=\"concat('members ', toString(members), ', expected ', judged_expected)\") }}\n"
        "{% endtest %}\n")
    edit_csv(project_copy / "seeds" / "quality_checks.csv",
             lambda lines: [*lines, {"check": "members", "test": "members_at_most", "methods": "",
                                     "description": "The tag has at most var quality_members_max members."}])
    synced = run_in(project_copy, PYTHON, "-c", "from orchestration.cli import app; app()", "catalog", "sync")
    assert synced.returncode == 0 and "_quality_checks.yml" in synced.stdout, synced.stdout + synced.stderr

    limit = 100
    variables = {"as_of": AS_OF.isoformat(), "run_id": demo_night.run_id, "quality_members_max": limit}
    result = dbt_in(project_copy, "build", "--select", "path:models/quality", variables=variables)
    # not in any tag's blocking_checks: the new check warns, the build passes
    assert result.returncode == 0, result.stdout[-3000:]
    members = dict(rows(client, "SELECT tag_key, member_count FROM tag_store.tag_catalog_snapshots "
                                f"WHERE run_id = '{demo_night.run_id}' AND status != 'archived'"))
    outcomes = {tag: (passed, observed, message) for tag, passed, observed, message in rows(
        client, "SELECT tag_key, passed, observed, message FROM quality.check_results "
                f"WHERE run_id = '{demo_night.run_id}' AND check = 'members'")}
    assert set(outcomes) == set(members)
    over = {tag for tag, count in members.items() if count > limit}
    assert over and over != set(members)  # the demo has tags on either side of the limit
    assert {tag for tag, (passed, _, _) in outcomes.items() if not passed} == over
    assert outcomes["vip"][2] == f"members {members['vip']}, expected at most {limit}"
    assert all(f"WARN 1 quality__{tag}__members" in result.stdout for tag in over), result.stdout[-3000:]
