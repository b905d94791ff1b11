"""The performance benchmark: `python -m bench --scale M` (S: 10,000 customers, M: 1,000,000, L: 5,000,000, about 100 M orders).

One run, on a warehouse of its own (temporary directory, free ports), in this order:
  1. demo data at the scale;
  2. the scan floor: each raw table read once, with one aggregate over all its columns;
  3. the full nightly refresh (`tags refresh`: the whole Dagster job), its wall time, the engine's own
     query time from system.query_log, and the peak memory of the warehouse and of the refresh process;
  4. the DuckDB peer: the raw tables exported to Parquet; our staging, feature mart and rule tags
     (`dbt run --full-refresh` of those models) and the same written as DuckDB SQL (bench/duckdb_peer.py),
     alternating, ROUNDS[scale] times each; both must give the same members per tag;
  5. one more day of orders and events (`tags demo --next-day`) and the incremental nightly run;
  6. the intraday lane: a micro-batch of payments loaded and one run of the lane (bench/intraday.py);
  7. audience size latency (bench/audience_size.py), a customer's tags through the console API
     (bench/console_api.py) and one new catalog row to a queryable tag
     (bench/new_tag.py).
It prints each figure as it comes and keeps them in bench/results/<scale>.json after every step (a failure late
in a long run keeps what came before it); then it writes BENCHMARKS.md and bench/benchmarks.html (plotly) from
the results of every scale run so far (`python -m bench.report` writes them again without running anything).
A benchmark, not a test: the targets are reported as met or missed, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.demo_generation import free_port

SCALES = {"S": 10_000, "M": 1_000_000, "L": 5_000_000}
AS_OF = dt.date(2026, 11, 23)
NEXT_DAY = AS_OF + dt.timedelta(days=1)
ROUNDS = {"S": 2, "M": 2, "L": 1}  # peer rounds: at L one round of each is already half an hour
ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent


@dataclass
class Refresh:
    wall_s: float
    engine_s: float  # sum of query_duration_ms of the queries it ran (they overlap: 2 dbt threads)
    queries: int
    warehouse_peak_gib: float
    python_peak_gib: float
    # the dbt nodes that cost the engine most: (node, engine s, the largest memory one of its queries took, GiB)
    top_nodes: list = field(default_factory=list)
    # identity stitching in this refresh (stitching_figures): engine s per node, the graph's size, extended or rebuilt
    stitching: dict = field(default_factory=dict)


@dataclass
class Results:
    scale: str
    customers: int
    cores: int
    memory_gib: float
    raw_rows: dict[str, int] = field(default_factory=dict)
    demo_s: float = 0.0
    floor_s: dict[str, float] = field(default_factory=dict)
    full: Refresh | None = None
    # the model step of the full refresh, per model tag: train_s, score_s (seconds), auc, trained on, scored
    model_step: dict = field(default_factory=dict)
    incremental: Refresh | None = None
    appended_rows: dict[str, int] = field(default_factory=dict)
    ours_step_s: list[float] = field(default_factory=list)
    duckdb_step_s: list[float] = field(default_factory=list)
    peer_disagreements: list[str] = field(default_factory=list)
    audience: dict = field(default_factory=dict)
    intraday: dict = field(default_factory=dict)  # bench/intraday.py: a payment batch and one run of the lane
    commands: dict = field(default_factory=dict)  # `tags --help` and `tags audience size` as commands, wall seconds
    console_api: dict = field(default_factory=dict)  # bench/console_api.py: a customer's tags over HTTP, ms
    new_tag_s: float = 0.0
    new_tag_members: int = 0
    new_tag_error: str = ""
    stopped: str = ""  # the step the run stopped in, and why, when it did not reach its end
    peer_error: str = ""  # the DuckDB peer failed (out of memory or disk): written down, and the run goes on
    date: str = ""
    commit: str = ""

    def save(self, directory: Path = RESULTS_DIR) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        staged = directory / f".{self.scale}.json"
        staged.write_text(json.dumps(asdict(self), indent=1) + "\n")
        staged.replace(directory / f"{self.scale}.json")

    @classmethod
    def load(cls, path: Path) -> "Results":
        fields = json.loads(path.read_text())
        for name in ("full", "incremental"):
            fields[name] = Refresh(**fields[name]) if fields.get(name) else None
        return cls(**fields)


STEPS: list[str] = []  # the titles of the steps begun, the last one the step running


def step(title: str) -> None:
    STEPS.append(title)
    print(f"\n== {title}", flush=True)


def run_timed(*command: str) -> tuple[float, float]:
    """Run a command; its wall time and its peak resident memory (GiB), read from its own VmHWM while it
    runs. Not from wait4's rusage: Linux counts in a child's maxrss the parent's memory at fork time,
    which after the DuckDB peer (run in this process) is the benchmark's own, not the command's."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    peak = 0.0
    while process.poll() is None:
        try:
            peak = max(peak, peak_memory_gib(process.pid))  # VmHWM only grows: the last reading is the peak
        except OSError:
            pass  # exited between poll() and the read
        time.sleep(0.2)
    if process.returncode != 0:
        raise SystemExit(f"bench: `{' '.join(command)}` failed with exit code {process.returncode}")
    return time.perf_counter() - started, peak


def warehouse_pid() -> int:
    return int((Path(os.environ["WAREHOUSE_DIR"]) / "warehouse.pid").read_text().split()[0])


def reset_peak_memory(pid: int) -> None:
    """Start the process's peak resident memory (VmHWM) afresh, so it covers the next step only."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        pass  # then the peak is since the server started: an upper bound


def peak_memory_gib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20
    return float("nan")


def engine_time(client, since: str) -> tuple[float, int]:
    client.command("SYSTEM FLUSH LOGS")
    total, count = client.query(
        "SELECT sum(query_duration_ms), count() FROM system.query_log "
        "WHERE type = 'QueryFinish' AND event_time_microseconds >= %(since)s", parameters={"since": since}).result_rows[0]
    return (total or 0) / 1000, int(count)


def node_costs(client, since: str) -> list:
    """Every dbt node of the queries since `since`, costliest first: (node, engine s, the most memory one of its
    queries took, GiB). dbt puts a comment with the node id in front of each query; queries without one are
    "(outside dbt nodes)"."""
    from bench.quality_step import NODE_ID_SQL

    rows = client.query(
        f"SELECT if({NODE_ID_SQL} = '', '(outside dbt nodes)', {NODE_ID_SQL}) AS node, sum(query_duration_ms) / 1000, "
        "max(memory_usage) / pow(2, 30) FROM system.query_log "
        "WHERE type = 'QueryFinish' AND event_time_microseconds >= %(since)s "
        "GROUP BY node ORDER BY 2 DESC", parameters={"since": since}).result_rows
    return [(re.sub(r"^(model|test|seed)\.customer_tags\.", "", node), seconds, memory) for node, seconds, memory in rows]


def top_nodes(costs: list, count: int = 12) -> list:
    """The `count` costliest of node_costs, rounded for the report."""
    return [(node, round(seconds, 1), round(memory, 2)) for node, seconds, memory in costs[:count]]


STITCHING_NODES = ["base_identity_edges", "int_identifiers", "int_identity_links", "identity_components",
                   "stitched_customers", "identity_merge_log"]


def stitching_figures(client, costs: list) -> dict:
    """Identity stitching in a refresh whose node_costs are `costs`: the engine seconds of each of its dbt nodes (the
    rounds of labelling run in identity_components' pre-hook, under its node id), and what it stitched."""
    if not client.command("EXISTS TABLE identity.identity_components"):
        return {}
    seconds = {node: spent for node, spent, _ in costs}
    identifiers, components, held_back, how = client.query(
        "SELECT count(), uniqExact(component), countIf(held_back), any(stitching) "
        "FROM identity.identity_components").result_rows[0]
    customers, stitched, merged = client.query(
        "SELECT count(), uniqExact(stitched_customer_id), countIf(customer_ids > 1) "
        "FROM identity.stitched_customers").result_rows[0]
    return {"engine_s": {node: round(seconds.get(node, 0.0), 2) for node in STITCHING_NODES},
            "edges": int(client.command("SELECT count() FROM staging.stg_identity_edges")),
            "identifiers": int(identifiers), "components": int(components), "held_back": int(held_back),
            "customers": int(customers), "stitched_customers": int(stitched), "customers_merged": int(merged),
            "how": how}


def measured_refresh(client, *args: str) -> Refresh:
    pid = warehouse_pid()
    reset_peak_memory(pid)
    since = client.command("SELECT toString(now64(6))")
    wall, python_peak = run_timed(str(BIN / "tags"), "refresh", *args)
    engine, queries = engine_time(client, since)
    costs = node_costs(client, since)
    return Refresh(wall, engine, queries, peak_memory_gib(pid), python_peak, top_nodes(costs),
                   stitching_figures(client, costs))


def model_step(client) -> dict:
    """The model step of the latest run, per model tag, as the step recorded it in tag_store.model_versions."""
    rows = client.query(
        "SELECT tag_key, train_seconds, score_seconds, validation_auc, train_rows + validation_rows, scored_customers "
        "FROM tag_store.model_versions WHERE run_id = (SELECT argMax(run_id, trained_at) FROM tag_store.model_versions)"
    ).result_rows
    return {tag: {"train_s": train, "score_s": score, "auc": auc, "trained_on": trained_on, "scored": scored}
            for tag, train, score, auc, trained_on, scored in rows}


def scan_floor(client) -> dict[str, float]:
    """The least a correct full refresh must do: read every column of every raw table once."""
    from orchestration.warehouse import contract

    floor = {}
    for table in contract.raw_tables():
        started = time.perf_counter()
        client.command(f"SELECT sum(cityHash64(*)) FROM raw.{table}")
        floor[table] = time.perf_counter() - started
    return floor


def export_parquet(client, directory: Path) -> None:
    from bench.duckdb_peer import MERGED_ACCOUNTS, RAW_TABLES

    merged = ("SELECT customer_id, stitched_customer_id FROM identity.stitched_customers "
              "WHERE customer_id != stitched_customer_id")
    for name, query in [*((table, f"SELECT * FROM raw.{table}") for table in RAW_TABLES), (MERGED_ACCOUNTS, merged)]:
        with client.raw_stream(query, fmt="Parquet") as stream, open(directory / f"{name}.parquet", "wb") as out:
            for chunk in stream:
                out.write(chunk)


def peer_rounds(client, results: Results, parquet: Path) -> None:
    from bench import duckdb_peer
    from orchestration.catalog import catalog_sync

    models = ["path:models/staging", "path:models/features",
              *(catalog_sync.model_name(r.tag_key) for r in duckdb_peer.rule_tags())]
    dbt = [str(BIN / "dbt"), "run", "--quiet", "--full-refresh", "--project-dir", ".", "--profiles-dir", ".",
           "--vars", json.dumps({"as_of": AS_OF.isoformat()}), "--select", *models]
    ours_members = dict(client.query("SELECT tag_key, member_count FROM tags.tag_catalog").result_rows)
    import duckdb

    members = None
    for round_ in range(1, ROUNDS[results.scale] + 1):
        seconds, _ = run_timed(*dbt)
        results.ours_step_s.append(seconds)
        results.save()
        print(f"  round {round_}: ours (dbt run on the warehouse) {seconds:.1f} s", flush=True)
        started = time.perf_counter()
        try:
            members = duckdb_peer.run(parquet, AS_OF)
        except duckdb.Error as failure:
            results.peer_error = f"DuckDB, round {round_}: {failure}"
            print(f"  {results.peer_error}", flush=True)
            return
        results.duckdb_step_s.append(time.perf_counter() - started)
        print(f"  round {round_}: DuckDB {results.duckdb_step_s[-1]:.1f} s", flush=True)
    results.peer_disagreements = [f"{key}: ours {ours_members.get(key)}, DuckDB {n}"
                                  for key, n in members.items() if ours_members.get(key) != n]
    print(f"  members per rule tag: {'identical' if not results.peer_disagreements else results.peer_disagreements}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="M")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    results = Results(args.scale, SCALES[args.scale], os.cpu_count() or 0,
                      os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, date=dt.date.today().isoformat(),
                      commit=subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                            text=True).stdout.strip())
    with tempfile.TemporaryDirectory(prefix="bench-") as directory:
        os.environ.update({"WAREHOUSE_DIR": str(Path(directory) / "warehouse"),
                           "WAREHOUSE_HTTP_PORT": str(free_port()), "WAREHOUSE_TCP_PORT": str(free_port())})
        from bench import audience_size, console_api, intraday, new_tag
        from orchestration.catalog import catalog
        from orchestration.warehouse import contract, db

        new_tag.tags("warehouse", "start")
        try:
            client = db.client()
            step(f"demo data, scale {args.scale}: {results.customers:,} customers")
            results.demo_s, _ = run_timed(str(BIN / "tags"), "demo", "--customers", str(results.customers),
                                          "--as-of", AS_OF.isoformat())
            results.raw_rows = {t: int(client.command(f"SELECT count() FROM raw.{t}")) for t in contract.raw_tables()}
            print(f"  {results.demo_s:.1f} s; " + ", ".join(f"{t} {n:,}" for t, n in results.raw_rows.items()))
            results.save()

            step("scan floor: every raw table read once")
            results.floor_s = scan_floor(client)
            print(f"  {sum(results.floor_s.values()):.2f} s")
            results.save()

            step("full nightly refresh (the whole Dagster job)")
            results.full = measured_refresh(client, "--as-of", AS_OF.isoformat())
            results.model_step = model_step(client)
            print(f"  {results.full}\n  model step: {results.model_step}")
            results.save()

            step(f"peer: staging, feature mart and rule tags, ours and DuckDB, alternating, {ROUNDS[args.scale]} round(s)")
            parquet = Path(directory) / "parquet"
            parquet.mkdir()
            export_parquet(client, parquet)
            peer_rounds(client, results, parquet)
            shutil.rmtree(parquet)  # 7.6 GB at L: the steps after it need the disk
            results.save()

            step("one more day of orders and events, then the incremental nightly run")
            subprocess.run([str(BIN / "tags"), "demo", "--next-day", "--as-of", NEXT_DAY.isoformat()], cwd=ROOT,
                           check=True, stdout=subprocess.DEVNULL)
            results.appended_rows = {t: int(client.command(
                f"SELECT count() FROM raw.{t} WHERE _load_id = 'demo-seed-42-day-{NEXT_DAY}'"))
                for t in ("orders", "order_items", "events", "identity_edges")}
            results.incremental = measured_refresh(client, "--as-of", NEXT_DAY.isoformat())
            print(f"  appended {results.appended_rows}; {results.incremental}")
            results.save()

            step("intraday lane: a batch of payments loaded, then one run of the lane at 10:00 the next morning")
            results.intraday = intraday.measure(client, dt.datetime.combine(NEXT_DAY + dt.timedelta(days=1), dt.time(10)),
                                                measured_refresh)
            print(f"  {results.intraday}")
            results.save()

            step(f"audience size, {audience_size.QUERIES} queries per expression and way")
            results.audience = audience_size.measure(client, catalog.load())
            for label, ways in results.audience.items():
                print(f"  {label}: " + "; ".join(f"{w} p50 {f['wall_p50']:.1f} ms p95 {f['wall_p95']:.1f} ms"
                                                  for w, f in ways.items()))
            results.commands = audience_size.command_times(audience_size.EXPRESSIONS["3 tags"][0])
            print(f"  as commands: `tags --help` {results.commands['help_s']:.2f} s, `tags audience size` "
                  f"{results.commands['audience_size_s']:.2f} s (median of 5, new process each)")
            results.save()

            step(f"a customer's tags through the console API, {console_api.REQUESTS} requests")
            results.console_api = console_api.measure(client)
            print(f"  p50 {results.console_api['p50_ms']:.1f} ms, p99 {results.console_api['p99_ms']:.1f} ms")
            results.save()

            step("one new catalog row to a queryable tag")
            try:  # the last step: a failure here is written into BENCHMARKS.md, not lost with the figures above
                results.new_tag_s, results.new_tag_members = new_tag.time_new_tag(NEXT_DAY.isoformat())
                print(f"  {results.new_tag_s:.1f} s ({results.new_tag_members:,} members)")
            except SystemExit as failure:
                results.new_tag_error = str(failure)
                print(f"  {failure}")
            results.save()
        except BaseException as failure:  # the figures so far are kept, with where and why the run stopped
            results.stopped = f"{STEPS[-1] if STEPS else 'start'}: {type(failure).__name__}: {failure}"[:2000]
            results.save()
            raise
        finally:
            new_tag.tags("warehouse", "stop")

    from bench import report

    report.write(args.out, ROOT / "bench" / "benchmarks.html")
    print(f"\nwrote {args.out} and bench/benchmarks.html")


if __name__ == "__main__":
    main()
