"""The reliability suite: faults, bad input and load against real embedded servers.

Every scenario ends by checking that nothing was lost (every raw row staged or rejected, manual
tag assignments only ever appended) and records a line in the summary table that the session
writes to reports/reliability/summary.md (RELIABILITY.md is a committed copy of one run).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from orchestration.quality import accounting

SUMMARY = Path(__file__).resolve().parents[2] / "reports" / "reliability" / "summary.md"
@dataclass(frozen=True)
class Trial:
    area: str
    what: str
    tries: int
    outcome: str
    data_lost: str


TRIALS: list[Trial] = []


def losses(client, manual_before: set[tuple] | None = None) -> list[str]:
    """What a scenario lost: raw tables whose rows are not all staged or rejected, manual assignments gone."""
    lost = [f"raw.{a.table}: {a.raw} raw, {a.staged} staged + {a.rejected} rejected"
            for a in accounting.accounts(client) if not a.balanced]
    if manual_before is not None:
        missing = manual_before - manual_assignments(client)
        lost += [f"{len(missing)} manual tag assignment(s)"] if missing else []
    return lost


def manual_assignments(client) -> set[tuple]:
    return set(client.query("SELECT customer_id, tag_key, action, assigned_by, assigned_at, _load_id "
                            "FROM raw.manual_tag_assignments").result_rows)


def record(client, area: str, what: str, tries: int, outcome: str, manual_before: set[tuple] | None = None) -> None:
    """Assert nothing was lost, then add the scenario to the summary table."""
    lost = losses(client, manual_before) if client is not None else []
    assert lost == [], lost
    TRIALS.append(Trial(area, what, tries, outcome, "none"))


def assert_clear_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit code 1, an `error:` line naming what is wrong, and no Python traceback."""
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "error:" in output and "Traceback" not in output, output
    for fragment in fragments:
        assert fragment in " ".join(output.split()), (fragment, output)
    return output


def read_until(process: subprocess.Popen, text: str) -> list[str]:
    """Lines of the process's output up to the first that holds text (all of them if it never comes)."""
    seen = []
    for line in process.stdout:
        seen.append(line)
        if text in line:
            break
    return seen


def pytest_sessionfinish(session, exitstatus):
    if not TRIALS:
        return
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    lines = ["| area | fault or input | tries | outcome | data lost |", "| --- | --- | ---: | --- | --- |"]
    lines += [f"| {t.area} | {t.what} | {t.tries} | {t.outcome} | {t.data_lost} |" for t in TRIALS]
    SUMMARY.write_text("\n".join(lines) + "\n")
