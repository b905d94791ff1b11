"""Audience size latency, bitmaps against the long table: `python -m bench.audience_size [--customers 1000000]`.

Starts its own embedded warehouse in a temporary directory on free ports, generates demo data, runs
one full `tags refresh`, then asks the size of a 3-tag and a 6-tag boolean expression 50 times each,
alternating two ways: `tags audience size` (audiences.size: bitmap operations over tags.tag_bitmaps)
and the same question written over the long table tags.customer_tags. Prints p50 and p95 of the
wall time seen by the client and of the engine's own query_duration_ms (system.query_log), and
checks that both ways give the same count. A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time

from bench.new_tag import published_demo

QUERIES = 50
EXPRESSIONS = {
    "3 tags": ("vip and country in ('DE', 'FR') and not churn_risk",
               "countIf(tag_key = 'vip') > 0 AND countIf(tag_key = 'country' AND tag_value IN ('DE', 'FR')) > 0 "
               "AND countIf(tag_key = 'churn_risk') = 0"),
    "6 tags": ("(vip or high_value) and rfm_segment in ('champions', 'loyal') and value_score >= 40 "
               "and not (complaint_open or price_sensitive)",
               "(countIf(tag_key = 'vip') > 0 OR countIf(tag_key = 'high_value') > 0) "
               "AND countIf(tag_key = 'rfm_segment' AND tag_value IN ('champions', 'loyal')) > 0 "
               "AND countIf(tag_key = 'value_score' AND toFloat64OrNull(tag_value) >= 40) > 0 "
               "AND countIf(tag_key = 'complaint_open') = 0 AND countIf(tag_key = 'price_sensitive') = 0"),
}


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def measure(client, rows) -> dict[str, dict[str, dict[str, float]]]:
    """Per expression and way: count, wall p50/p95 and engine p50/p95 (ms), asked QUERIES times, alternating."""
    from orchestration.audiences import audiences

    found: dict[str, dict[str, dict[str, float]]] = {}
    for label, (expression, having) in EXPRESSIONS.items():
        long_sql = (f"SELECT count() FROM (SELECT customer_id FROM tags.customer_tags GROUP BY customer_id "
                    f"HAVING {having})")
        ways = {"bitmaps": (lambda: audiences.size(client, expression, rows)),
                "long table": (lambda sql=long_sql: int(client.command(sql)))}
        walls: dict[str, list[float]] = {way: [] for way in ways}
        counts: dict[str, set[int]] = {way: set() for way in ways}
        for _ in range(QUERIES):  # alternate, so both ways see the same machine state
            for way, ask in ways.items():
                started = time.perf_counter()
                counts[way].add(ask())
                walls[way].append((time.perf_counter() - started) * 1000)
        client.command("SYSTEM FLUSH LOGS")
        engine = engine_times(client, expression, long_sql)
        found[label] = {way: {"count": min(counts[way]), "distinct_counts": len(counts[way]),
                              "wall_p50": percentile(walls[way], .5), "wall_p95": percentile(walls[way], .95),
                              "engine_p50": percentile(engine[way], .5), "engine_p95": percentile(engine[way], .95)}
                        for way in ways}
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()
    as_of = dt.date(2026, 11, 23).isoformat()

    with published_demo(args.customers, as_of, "bench-audience-"):
        from orchestration.catalog import catalog
        from orchestration.warehouse import db

        found = measure(db.client(), catalog.load())
    print(f"{'expression':<8} {'way':<12} {'count':>9} {'wall p50':>9} {'wall p95':>9} {'engine p50':>11} {'engine p95':>11}")
    for label, ways in found.items():
        for way, f in ways.items():
            print(f"{label:<8} {way:<12} {f['count']:>9,} {f['wall_p50']:>7.1f}ms {f['wall_p95']:>7.1f}ms "
                  f"{f['engine_p50']:>9.1f}ms {f['engine_p95']:>9.1f}ms")
        same = ways["bitmaps"]["count"] == ways["long table"]["count"] and ways["bitmaps"]["distinct_counts"] == 1
        print(f"{label:<8} same count both ways: {same}; long table / bitmaps (wall p50): "
              f"{ways['long table']['wall_p50'] / ways['bitmaps']['wall_p50']:.1f}x")
    print(f"on {os.cpu_count()} cores")


def engine_times(client, expression: str, long_sql: str) -> dict[str, list[float]]:
    """query_duration_ms of the bench's queries, from the query log."""
    def durations(pattern: str) -> list[float]:
        found = [float(r[0]) for r in client.query(
            "SELECT query_duration_ms FROM system.query_log WHERE type = 'QueryFinish' AND query LIKE %(p)s "
            "AND query NOT LIKE '%%system.query_log%%' ORDER BY event_time_microseconds DESC LIMIT %(n)s",
            parameters={"p": pattern, "n": QUERIES}).result_rows]
        return found or [float("nan")]
    from orchestration.audiences import audience_expression, audiences
    from orchestration.catalog import catalog

    first_condition = audience_expression.compile_expression(
        expression, audiences.tag_types(catalog.load())).conditions[0]
    return {"bitmaps": durations(f"%groupBitmapMergeStateIf(members, {first_condition})%"),
            "long table": durations(long_sql[:120] + "%")}


if __name__ == "__main__":
    main()


def command_times(expression: str, rounds: int = 5) -> dict[str, float]:
    """Median wall seconds of `tags --help` and of `tags audience size EXPR --json` as a person or a script runs
    them: a new Python process each time, so start-up and imports count (the query itself is measured above)."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    tags = str(Path(sys.executable).with_name("tags"))

    def median_wall(*args: str) -> float:
        walls = []
        for _ in range(rounds):
            started = time.perf_counter()
            subprocess.run([tags, *args], check=True, stdout=subprocess.DEVNULL)
            walls.append(time.perf_counter() - started)
        return statistics.median(walls)

    return {"help_s": median_wall("--help"), "audience_size_s": median_wall("audience", "size", expression, "--json")}

