"""Run dbt on this project the one way it is run everywhere: dagster-dbt's DbtCliResource (`dbt.cli(...)`).

The nightly job's assets get the same resource (resources.py); the `tags` commands that parse, build
or document the project outside a job use run() below. dagster-dbt is imported when dbt runs, so
commands that never run dbt start quickly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import re
import shutil
from typing import TYPE_CHECKING

from orchestration.settings import PROJECT_DIR

if TYPE_CHECKING:
    from dagster_dbt import DbtCliInvocation, DbtCliResource

# Where the commands outside a job write manifest.json, run_results.json and the docs site: the
# project's target/, which the Definitions read (a job's own dbt invocations get a directory each).
TARGET_DIR = PROJECT_DIR / "target"

# dagster-dbt gives each dbt command a directory of its own in target/: <step>-<run id>-<id> when it runs in an
# asset's step with its context (the night's builds: dbt_models-...), a bare <id> otherwise (freshness, the intraday
# lane and the held tags' rebuild). Each holds its manifest, parse, run_results.json and dbt.log, 6-16 MB, some
# 35 MB a night, kept forever unless removed. The newest KEPT_INVOCATIONS of each kind (each step's name, and the
# bare ones) stay: the night's builds of the last 15 nights, for reading a failed night's dbt.log, whatever number
# of intraday runs came since; the rest go.
KEPT_INVOCATIONS = 30
INVOCATION_DIR = re.compile(r"(?:(\w+)-[0-9a-f]{7}-)?[0-9a-f]{7}")


class DbtFailed(RuntimeError):
    pass


# The environment variable that carries a run's values to dbt (macros/utils/run_var.sql): as_of, run_id, cutoff...
RUN_VALUES_VARIABLE = "TAGS_DBT_RUN"


def run_values(as_of: dt.date, run_id: str | None = None, held_tags: list[str] | None = None,
               cutoff: dt.datetime | None = None, lane: str | None = None, new_tags: list[str] | None = None) -> str:
    """A run's values for dbt, as JSON: its as_of, the run id every row it writes to the tag store carries, the
    tags it holds back at their published values (orchestration/publishing/holds.py), its cutoff
    (macros/utils/as_of.sql; none: the end of the as_of day), its lane (macros/tags/lane.sql; none: nightly) and,
    in the lane new_tags, the tags it builds."""
    return json.dumps({"as_of": as_of.isoformat()} | ({"run_id": run_id} if run_id else {})
                      | ({"held_tags": held_tags} if held_tags else {})
                      | ({"cutoff": cutoff.strftime("%Y-%m-%d %H:%M:%S")} if cutoff else {})
                      | ({"lane": lane} if lane else {}) | ({"new_tags": new_tags} if new_tags else {}))


def cli(dbt: DbtCliResource, args: list[str], values: str, **kwargs) -> DbtCliInvocation:
    """dbt.cli(args, **kwargs) with the run's values (run_values) in RUN_VALUES_VARIABLE, not in --vars: dbt parses
    the whole project again whenever --vars differ from the last invocation's (6.7 s against 2.7 s), and the
    macros read the variable only when executing, so the parse kept from the last run serves every night.
    dagster-dbt hands dbt a copy of this process's environment when it starts it, so the variable is set for the
    start only (a run's steps run one at a time in this process)."""
    prune_invocations()
    previous = os.environ.get(RUN_VALUES_VARIABLE)
    os.environ[RUN_VALUES_VARIABLE] = values
    try:
        return dbt.cli(args, **kwargs)
    finally:
        if previous is None:
            os.environ.pop(RUN_VALUES_VARIABLE, None)
        else:
            os.environ[RUN_VALUES_VARIABLE] = previous


def prune_invocations(target_dir=None, keep: int = KEPT_INVOCATIONS) -> list[str]:
    """Remove all but the newest `keep` invocation directories of each kind in target/ (INVOCATION_DIR, its step's
    name or none; anything else there, compiled/, the docs, the kept parse, stays); returns their names.
    Housekeeping: a directory that cannot be listed or removed is logged and left."""
    target_dir = target_dir or TARGET_DIR
    kinds: dict[str, list[tuple[float, str]]] = {}
    try:
        for entry in os.scandir(target_dir):
            matched = INVOCATION_DIR.fullmatch(entry.name)
            if matched and entry.is_dir():
                with contextlib.suppress(FileNotFoundError):  # removed meanwhile by another command
                    kinds.setdefault(matched.group(1) or "", []).append((entry.stat().st_mtime, entry.name))
    except FileNotFoundError:  # no target/ yet
        pass
    except OSError as error:  # target/ unreadable or not a directory: dbt will say so itself
        logging.getLogger(__name__).warning("could not look for old dbt directories in %s (%s)", target_dir, error)
    removed = []
    for found in kinds.values():
        for _, name in sorted(found, reverse=True)[keep:]:
            try:
                shutil.rmtree(os.path.join(target_dir, name))
                removed.append(name)
            except FileNotFoundError:
                pass
            except OSError as error:
                logging.getLogger(__name__).warning("could not remove the old dbt directory %s (%s)", name, error)
    return removed


def dbt_args(command: str, select: list[str] | None = None) -> list[str]:
    """Arguments of one dbt invocation (command may be two words, e.g. "docs generate"): pure, so it can be
    tested without dbt."""
    args = [*command.split(), "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    for selector in select or []:
        args += ["--select", selector]
    return args


def resource() -> DbtCliResource:
    """The dbt resource of this project, with the dbt beside this Python (project.InstalledDbtResource)."""
    from orchestration.dagster.project import DBT_EXECUTABLE, PROJECT, InstalledDbtResource

    return InstalledDbtResource(project_dir=PROJECT, dbt_executable=DBT_EXECUTABLE)


def _node_name(unique_id: str) -> str:
    """model.customer_tags.stg_orders -> stg_orders; a test's id ends with a hash after its name."""
    parts = unique_id.split(".")
    return parts[2] if len(parts) > 2 else unique_id


def failure(invocation: DbtCliInvocation) -> str:
    """What failed: the nodes run_results.json names as error or fail, else dbt's own error lines."""
    try:
        results = invocation.get_artifact("run_results.json")["results"]
    except (FileNotFoundError, KeyError, ValueError):
        results = []
    failed = [f"{_node_name(r['unique_id'])}: {r.get('message')}" for r in results if r.get("status") in ("error", "fail")]
    if failed:
        return "; ".join(failed)
    error = invocation.get_error()
    return " ".join(str(error).split()) if error else "see the dbt output above"


def run(command: str, as_of: dt.date, select: list[str] | None = None, run_id: str | None = None) -> DbtCliInvocation:
    """Run one dbt command to its end, its log lines printed as they come; DbtFailed names what failed."""
    TARGET_DIR.mkdir(exist_ok=True)
    stale = TARGET_DIR / "run_results.json"  # a failed parse writes none: never report an earlier command's
    stale.unlink(missing_ok=True)
    invocation = cli(resource(), dbt_args(command, select), run_values(as_of, run_id), raise_on_error=False,
                     target_path=TARGET_DIR)
    invocation.wait()
    if not invocation.is_successful():
        raise DbtFailed(f"dbt {command} failed: {failure(invocation)}")
    return invocation


def keep_parse(invocation: DbtCliInvocation) -> None:
    """Leave the invocation's partial parse in target/, where dagster-dbt looks for one to copy into the next
    invocation's directory, so the night's later dbt commands and the next night parse in part (about 2.7 s) even
    when target/ held a parse dbt could not reuse (one made with --vars by hand: dbt parses in full, about 6.7 s,
    whenever the vars or the profile differ).
    Only a saving: a copy that fails is logged and the night goes on (its later commands parse in full), and the
    copy is written aside and renamed, so a concurrent dbt never reads half a file."""
    parsed = invocation.target_path / "partial_parse.msgpack"
    if not parsed.exists():
        return
    staged = TARGET_DIR / f".partial_parse.msgpack.{os.getpid()}"
    try:
        TARGET_DIR.mkdir(exist_ok=True)
        shutil.copyfile(parsed, staged)
        os.replace(staged, TARGET_DIR / "partial_parse.msgpack")
    except OSError as error:
        logging.getLogger(__name__).warning("could not keep dbt's partial parse (%s): later commands parse in full", error)
        with contextlib.suppress(OSError):
            staged.unlink(missing_ok=True)


def serve_docs(port: int) -> None:
    """Serve target/ (dbt docs serve) on loopback until interrupted."""
    resource().cli(["docs", "serve", "--port", str(port), "--host", "127.0.0.1", "--no-browser"],
                   raise_on_error=False, target_path=TARGET_DIR).wait()
