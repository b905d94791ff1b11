"""The quality step's wall time: `python -m bench.quality_step --customers 1000000 [--warehouse DIR] [--reuse]`.

One run, in this order:
  1. a warehouse: DIR (kept afterwards) or a temporary directory, started on free ports;
  2. demo data at the scale (`tags demo`, as of 2026-11-23), or, with --reuse and a DIR that already holds
     raw data for that many customers, no demo load: every database but the raw data's (raw, raw_load) and
     the server's own is dropped, so the refresh starts from raw exactly as after a fresh demo load;
  3. one full `tags refresh` (the whole Dagster job, as `python -m bench` runs it) with DAGSTER_HOME set to a
     temporary directory, so the run's events persist and can be read back;
  4. from the Dagster instance: every step of the run with its wall seconds (get_run_step_stats);
     from dbt's run_results.json of the dbt step: every dbt node's own wall seconds (execution_time);
     from system.query_log: every dbt node's engine seconds and query count (dbt puts a comment with the
     node id in front of each query) and, for the queries without a node id, the Dagster step whose time
     window they ran in (the in-process executor runs one step at a time);
  5. prints the figures and writes them as JSON (--out; default quality_step_<customers>_<commit>.json beside
     the warehouse directory), the commands' output in a log beside it.
The server is stopped at the end, also on failure.

What "the quality step" is, so that the before and the after figure are computed the same way:

  quality step wall = the wall seconds of every Dagster step that is a quality check
                    + the dbt wall seconds (run_results execution_time) of every quality dbt node.

  A Dagster step is a quality check when its key matches QUALITY_STEP_PATTERN (mentions quality,
  expectations, great_expectations or gx) and it is not a report (REPORT_STEP_PATTERN: the
  `quality_report` asset, hygiene and the HTML report, is not part of computing or validating the
  figures). A dbt node is a quality node when it is defined under models/quality/ (its
  original_file_path, so the models there and the tests declared in their YAML), or it carries the dbt
  tag `quality_check`, or it is a test all of whose parents are quality models.

  Before issue 17 (this script's first commit): the quality figures are computed and validated in the
  Dagster step `tag_quality` (the multi_asset_check: figures by Python queries, validation with
  great-expectations), and the accuracy sample is dbt models under models/quality/ (accuracy_sample_features,
  accuracy_sample_tags, accuracy_mismatches) with their tests, built inside the dbt step.
  After: the figures are dbt models under models/quality/ (e.g. tag_quality_figures, value_shares,
  check_results), checked by dbt tests tagged quality_check, and great-expectations runs as a separate
  Dagster asset check; the same patterns pick all of them up.

  The dbt part is the sum of the quality nodes' own wall times. dbt runs two threads, so those nodes
  may overlap other nodes: the sum is what they cost one after the other, an upper bound on what they add
  to the dbt step's wall. The JSON also has their engine seconds (query_log) and the dbt step's wall.

A benchmark, not a test: nothing is asserted. Run it on a quiet machine; it records the cores and the load
average at the start and the end, since a busy machine makes every figure larger.
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.demo_generation import free_port

AS_OF = dt.date(2026, 11, 23)
ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

QUALITY_STEP_PATTERN = re.compile(r"quality|expectation|great_expectations|(^|_)gx(_|$)", re.IGNORECASE)
REPORT_STEP_PATTERN = re.compile(r"report", re.IGNORECASE)
QUALITY_PATH = "models/quality/"
QUALITY_TAG = "quality_check"
# Databases a --reuse run keeps: the raw data (and the loader's bookkeeping) and the server's own.
KEPT_DATABASES = {"raw", "raw_load", "system", "information_schema", "INFORMATION_SCHEMA", "default", "dbt_connection"}
NODE_ID_SQL = r"""extract(query, '"node_id": "([^"]+)"')"""


def tags(*args: str, log: Path | None = None) -> float:
    """Run the `tags` command (this environment's); its wall seconds. Output to log (appended) if given."""
    started = time.perf_counter()
    with open(log, "a") if log else open(os.devnull, "w") as out:
        process = subprocess.run([str(BIN / "tags"), *args], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    if process.returncode != 0:
        raise SystemExit(f"quality_step: `tags {' '.join(args)}` failed with exit code {process.returncode}"
                         + (f"; see {log}" if log else ""))
    return time.perf_counter() - started


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def has_raw(client, customers: int) -> bool:
    try:
        return int(client.command("SELECT count() FROM raw.customers")) == customers
    except Exception:  # noqa: BLE001 - no raw database yet
        return False


def reset_to_raw(client) -> list[str]:
    """Drop every database but the raw data's and the server's own: the state right after `tags demo`."""
    dropped = [name for (name,) in client.query("SELECT name FROM system.databases").result_rows
               if name not in KEPT_DATABASES]
    for name in dropped:
        client.command(f"DROP DATABASE IF EXISTS `{name}` SYNC")
    return dropped


def run_steps(instance, run_id: str) -> list[dict]:
    steps = []
    for stats in instance.get_run_step_stats(run_id):
        if stats.start_time is None:
            continue
        end = stats.end_time or stats.start_time
        steps.append({"step": stats.step_key, "status": str(stats.status.value if stats.status else None),
                      "start": stats.start_time, "end": end, "wall_s": round(end - stats.start_time, 3)})
    return sorted(steps, key=lambda s: s["start"])


def run_results(run_id: str) -> dict[str, dict]:
    """dbt's own per-node figures of the run's dbt step: target/<op>-<run id[:7]>-<uuid>/run_results.json
    (dagster-dbt's target path for an invocation with a context), the one whose vars carry this run id."""
    nodes: dict[str, dict] = {}
    for path in sorted(glob.glob(str(ROOT / "target" / f"*-{run_id[:7]}-*" / "run_results.json"))):
        data = json.loads(Path(path).read_text())
        if run_id not in json.dumps(data.get("args", {}).get("vars", {})):
            continue
        for result in data["results"]:
            nodes[result["unique_id"]] = {"status": result["status"], "dbt_wall_s": round(result["execution_time"], 3)}
    return nodes


def manifest_nodes() -> dict[str, dict]:
    manifest = json.loads((ROOT / "target" / "manifest.json").read_text())
    return {uid: node for uid, node in manifest["nodes"].items()
            if node["resource_type"] in ("model", "test", "seed", "snapshot")}


def is_quality_node(uid: str, nodes: dict[str, dict]) -> bool:
    node = nodes.get(uid)
    if node is None:
        return False
    if node["original_file_path"].startswith(QUALITY_PATH) or QUALITY_TAG in node.get("tags", []):
        return True
    if node["resource_type"] == "test":
        parents = [p for p in node.get("depends_on", {}).get("nodes", []) if p.startswith("model.")]
        return bool(parents) and all(nodes.get(p, {}).get("original_file_path", "").startswith(QUALITY_PATH)
                                     for p in parents)
    return False


def is_quality_step(step_key: str) -> bool:
    return bool(QUALITY_STEP_PATTERN.search(step_key)) and not REPORT_STEP_PATTERN.search(step_key)


def query_log(client, since: float, until: float, steps: list[dict]) -> tuple[dict[str, dict], dict[str, dict]]:
    """Engine seconds and query count per dbt node; the queries without a node id per Dagster step (by the
    window their start falls into; 'outside steps' otherwise)."""
    client.command("SYSTEM FLUSH LOGS")
    rows = client.query(
        f"SELECT {NODE_ID_SQL} AS node_id, toUnixTimestamp64Micro(query_start_time_microseconds) / 1e6 AS started, "
        "query_duration_ms / 1000 AS seconds, type != 'QueryFinish' AS failed "
        "FROM system.query_log WHERE type != 'QueryStart' "
        "AND query_start_time_microseconds >= fromUnixTimestamp64Micro(toInt64(%(since)s * 1e6)) "
        "AND query_start_time_microseconds <= fromUnixTimestamp64Micro(toInt64(%(until)s * 1e6)) "
        "AND query NOT LIKE '%%system.query_log%%'",
        parameters={"since": since, "until": until}).result_rows
    by_node: dict[str, dict] = {}
    by_step: dict[str, dict] = {}
    for node_id, started, seconds, failed in rows:
        if node_id:
            target = by_node.setdefault(node_id, {"engine_s": 0.0, "queries": 0, "failed_queries": 0})
        else:
            step = next((s["step"] for s in steps if s["start"] <= started <= s["end"]), "outside steps")
            target = by_step.setdefault(step, {"engine_s": 0.0, "queries": 0, "failed_queries": 0})
        target["engine_s"] += float(seconds)
        target["queries"] += 1
        target["failed_queries"] += int(failed)
    for figures in (*by_node.values(), *by_step.values()):
        figures["engine_s"] = round(figures["engine_s"], 3)
    return by_node, by_step


def measure(customers: int, warehouse: Path, reuse: bool, log: Path) -> dict:
    results: dict = {"customers": customers, "as_of": AS_OF.isoformat(), "cores": os.cpu_count(),
                     "load_average_start": load_average(), "warehouse": str(warehouse),
                     "started_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                     "commit": subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                                              text=True).stdout.strip()}
    os.environ.update({"WAREHOUSE_DIR": str(warehouse), "WAREHOUSE_HTTP_PORT": str(free_port()),
                       "WAREHOUSE_TCP_PORT": str(free_port())})
    from orchestration.warehouse import db

    tags("warehouse", "start", log=log)
    try:
        client = db.client()
        if reuse and has_raw(client, customers):
            results["demo"] = "reused"
            results["dropped_databases"] = reset_to_raw(client)
            print(f"reusing the raw data of {warehouse}; dropped {', '.join(results['dropped_databases']) or 'nothing'}",
                  flush=True)
        else:
            print(f"demo data, {customers:,} customers ...", flush=True)
            results["demo_s"] = round(tags("demo", "--customers", str(customers), "--as-of", AS_OF.isoformat(), log=log), 1)
            results["demo"] = "generated"
            print(f"  {results['demo_s']} s", flush=True)
        results["raw_rows"] = {t: int(n) for t, n in client.query(
            "SELECT name, total_rows FROM system.tables WHERE database = 'raw' ORDER BY name").result_rows}

        with tempfile.TemporaryDirectory(prefix="dagster-home-") as dagster_home:
            Path(dagster_home, "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
            os.environ["DAGSTER_HOME"] = dagster_home
            print("full refresh (`tags refresh`) ...", flush=True)
            results["load_average_refresh_start"] = load_average()
            since = time.time()
            results["refresh_wall_s"] = round(tags("refresh", "--as-of", AS_OF.isoformat(), log=log), 1)
            until = time.time()
            results["load_average_refresh_end"] = load_average()
            print(f"  {results['refresh_wall_s']} s", flush=True)

            import dagster as dg

            instance = dg.DagsterInstance.get()
            runs = instance.get_runs(limit=1)
            if not runs:
                raise SystemExit("quality_step: the refresh left no Dagster run in DAGSTER_HOME")
            run = runs[0]
            results["run_id"], results["run_status"] = run.run_id, run.status.value
            steps = run_steps(instance, run.run_id)
            instance.dispose()
        by_node, by_step = query_log(client, since, until, steps)
    finally:
        tags("warehouse", "stop", log=log)
    results["load_average_end"] = load_average()

    dbt_nodes = run_results(results["run_id"])
    manifest = manifest_nodes()
    nodes = []
    for uid in sorted(set(dbt_nodes) | set(by_node)):
        if not uid.split(".")[0] in ("model", "test", "seed", "snapshot"):
            continue
        nodes.append({"node": uid, "quality": is_quality_node(uid, manifest),
                      "resource_type": uid.split(".")[0], "path": manifest.get(uid, {}).get("original_file_path"),
                      **dbt_nodes.get(uid, {"status": None, "dbt_wall_s": None}),
                      **by_node.get(uid, {"engine_s": 0.0, "queries": 0, "failed_queries": 0})})
    for step in steps:
        step["quality"] = is_quality_step(step["step"])
        step.update({f"unattributed_{k}": v for k, v in by_step.get(step["step"], {}).items()})
    quality_nodes = [n for n in nodes if n["quality"]]
    quality_steps = [s for s in steps if s["quality"]]
    dbt_step = [s for s in steps if s["step"].startswith("dbt_models")]
    nodes_wall = sum(n["dbt_wall_s"] or 0.0 for n in quality_nodes)
    steps_wall = sum(s["wall_s"] for s in quality_steps)
    results.update({
        "steps": steps,
        "dbt_nodes": nodes,
        "queries_outside_steps": by_step.get("outside steps"),
        "quality": {
            "definition": "wall of the Dagster steps that are quality checks + dbt wall (run_results execution_time) "
                          "of the dbt nodes under models/quality/, tagged quality_check, or testing only quality models",
            "steps": [s["step"] for s in quality_steps],
            "steps_wall_s": round(steps_wall, 3),
            "nodes": [n["node"] for n in quality_nodes],
            "nodes_dbt_wall_s": round(nodes_wall, 3),
            "nodes_engine_s": round(sum(n["engine_s"] for n in quality_nodes), 3),
            "nodes_queries": sum(n["queries"] for n in quality_nodes),
            "dbt_step_wall_s": round(sum(s["wall_s"] for s in dbt_step), 3),
            "all_nodes_dbt_wall_s": round(sum(n["dbt_wall_s"] or 0.0 for n in nodes), 3),
            "quality_step_wall_s": round(steps_wall + nodes_wall, 3),
        },
    })
    return results


def report(results: dict) -> None:
    q = results["quality"]
    print(f"\ncommit {results['commit'][:7]}, {results['customers']:,} customers, {results['cores']} cores, load average "
          f"{results['load_average_start']} at the start, {results['load_average_end']} at the end; "
          f"run {results['run_id']} {results['run_status']}, refresh {results['refresh_wall_s']} s")
    print("\nDagster steps (wall s; engine s of their queries without a dbt node id):")
    for s in results["steps"]:
        print(f"  {'Q' if s['quality'] else ' '} {s['step']:<40} {s['wall_s']:9.1f}   "
              f"{s.get('unattributed_engine_s', 0.0):8.1f} ({s.get('unattributed_queries', 0)} queries)")
    print("\ndbt nodes (dbt wall s, engine s, queries), quality nodes marked Q:")
    for n in sorted(results["dbt_nodes"], key=lambda n: (not n["quality"], -(n["dbt_wall_s"] or 0))):
        print(f"  {'Q' if n['quality'] else ' '} {n['node']:<78} {n['dbt_wall_s'] or 0:8.2f} {n['engine_s']:8.2f} {n['queries']:5d}")
    print(f"\nquality steps {q['steps']}: {q['steps_wall_s']:.1f} s; quality dbt nodes ({len(q['nodes'])}): "
          f"{q['nodes_dbt_wall_s']:.1f} s dbt wall, {q['nodes_engine_s']:.1f} s engine, {q['nodes_queries']} queries; "
          f"dbt step {q['dbt_step_wall_s']:.1f} s")
    print(f"QUALITY STEP WALL: {q['quality_step_wall_s']:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--warehouse", type=Path, help="warehouse directory, kept afterwards (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true",
                        help="with --warehouse holding raw data for --customers: skip the demo load")
    parser.add_argument("--out", type=Path, help="JSON output (default: quality_step_<customers>_<commit>.json beside "
                                                   "the warehouse directory, or in the temporary directory's parent)")
    args = parser.parse_args()
    if args.warehouse:
        warehouse = args.warehouse.resolve()
        log = warehouse.parent / f"{warehouse.name}.quality_step.log"
        results = measure(args.customers, warehouse, args.reuse, log)
    else:
        with tempfile.TemporaryDirectory(prefix="quality-step-") as directory:
            log = Path(directory).parent / f"{Path(directory).name}.log"
            results = measure(args.customers, Path(directory) / "warehouse", False, log)
    results["log"] = str(log)
    out = args.out or log.parent / f"quality_step_{args.customers}_{results['commit'][:7]}.json"
    report(results)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"wrote {out} (commands' output: {log})")


if __name__ == "__main__":
    main()
