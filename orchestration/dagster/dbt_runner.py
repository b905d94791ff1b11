"""Run dbt in-process on this project with the run's as_of."""

from __future__ import annotations

import datetime as dt
import json

from dbt.cli.main import dbtRunner, dbtRunnerResult

from orchestration.settings import PROJECT_DIR


class DbtFailed(RuntimeError):
    pass


def dbt_vars(as_of: dt.date, run_id: str | None = None, held_tags: list[str] | None = None) -> str:
    """The --vars of a run: its as_of, the run id every row it writes to the tag store carries, and the
    tags it holds back at their published values (orchestration/publishing/holds.py)."""
    return json.dumps({"as_of": as_of.isoformat()} | ({"run_id": run_id} if run_id else {})
                      | ({"held_tags": held_tags} if held_tags else {}))


def dbt_args(command: str, as_of: dt.date, select: list[str] | None = None, run_id: str | None = None) -> list[str]:
    """Arguments of one dbt invocation (command may be two words, e.g. "docs generate"): pure, so it can be
    tested without dbt."""
    args = [*command.split(), "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
            "--vars", dbt_vars(as_of, run_id)]
    for selector in select or []:
        args += ["--select", selector]
    return args


def run(command: str, as_of: dt.date, select: list[str] | None = None, run_id: str | None = None) -> dbtRunnerResult:
    result = dbtRunner().invoke(dbt_args(command, as_of, select, run_id))
    if not result.success:
        failed = []
        for node in getattr(result.result, "results", None) or []:
            if str(node.status) in ("error", "fail"):
                failed.append(f"{node.node.name}: {node.message}")
        detail = "; ".join(failed) if failed else str(result.exception or "see the dbt output above")
        raise DbtFailed(f"dbt {command} failed: {detail}")
    return result


def serve_docs(port: int) -> None:
    """Serve target/ (dbt docs serve) on loopback until interrupted."""
    dbtRunner().invoke(["docs", "serve", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
                        "--port", str(port), "--host", "127.0.0.1", "--no-browser"])
