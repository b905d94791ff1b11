"""The intraday lane at scale: `python -m bench.intraday --warehouse DIR` on a warehouse with a published night
(`python -m bench` runs measure() after its incremental night).

1. A micro-batch of payments: PAYMENTS orders pending payment in staging, loaded again as paid half an hour
   before the cutoff (`tags load`, the contract's checks), timed.
2. One run of the lane (`tags refresh --intraday --cutoff <cutoff>`): wall, engine time and queries from
   system.query_log, the costliest dbt nodes, peak memory of the warehouse and of the process.
3. What BI sees: how many of the paying customers tags.customer_tags shows as paid_awaiting_shipment, that the
   nightly tags kept their run (tags.published_lanes), and what one customer's tags cost to read, long and wide
   (p50 of 30), now that the views pick each tag's run.
Freshness per lane (BENCHMARKS.md): a fact loaded just after a lane looked for work waits for its next look, then
for a run's wall (two when a run was under way), before BI sees it: the nightly lane looks once a day (02:00), the
intraday lane's sensor every INTRADAY_INTERVAL_SECONDS (60).
A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PAYMENTS = 1_000
INTERVAL_S = 60  # how often the intraday lane's sensor looks for new loads, by default (INTRADAY_INTERVAL_SECONDS)
ORDER_COLUMNS = ("order_id", "customer_id", "ordered_at", "status", "amount", "paid_at", "shipped_at", "delivered_at",
                 "completed_at", "channel")
BIN = Path(sys.executable).parent


def payment_batch(client, directory: Path, cutoff: dt.datetime, count: int = PAYMENTS) -> list[str]:
    """orders.csv in directory: count orders pending payment now, paid 30 minutes before cutoff. Their customers."""
    from orchestration.relations import relation

    paid_at = cutoff - dt.timedelta(minutes=30)
    rows = client.query(
        f"SELECT order_id, customer_id, ordered_at, amount, channel FROM {relation('stg_orders')} "
        "WHERE status = 'pending_payment' AND ordered_at < %(paid_at)s ORDER BY order_id LIMIT 1 BY customer_id "
        "LIMIT %(count)s", parameters={"paid_at": paid_at, "count": count}).result_rows
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "orders.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(ORDER_COLUMNS)
        for order_id, customer_id, ordered_at, amount, channel in rows:
            writer.writerow([order_id, customer_id, f"{ordered_at:%Y-%m-%d %H:%M:%S}", "paid", amount,
                             f"{paid_at:%Y-%m-%d %H:%M:%S}", "", "", "", channel])
    return [row[1] for row in rows]


def lookup_ms(client, queries: int = 30) -> dict[str, float]:
    """p50 (ms) of what BI asks of one customer while the lane's run is shown: their tags, long and wide."""
    import statistics

    customer = client.command("SELECT customer_id FROM tags.customer_tags WHERE tag_key = 'paid_awaiting_shipment' LIMIT 1")
    found = {}
    for name, sql in {"customer_tags, one customer": "SELECT tag_key, tag_value FROM tags.customer_tags WHERE customer_id = %(c)s",
                      "customer_profile, one customer": "SELECT * FROM tags.customer_profile WHERE customer_id = %(c)s"}.items():
        walls = []
        for _ in range(queries):
            started = time.perf_counter()
            client.query(sql, parameters={"c": customer})
            walls.append((time.perf_counter() - started) * 1000)
        found[name] = round(statistics.median(walls), 1)
    return found


def measure(client, cutoff: dt.datetime, measured_refresh) -> dict:
    """Load a payment batch and run the lane once at cutoff; measured_refresh(client, *args) runs `tags refresh`
    and returns its figures (bench/__main__.py)."""
    from dataclasses import asdict

    with tempfile.TemporaryDirectory(prefix="payments-") as directory:
        customers = payment_batch(client, Path(directory) / "batch", cutoff)
        started = time.perf_counter()
        subprocess.run([str(BIN / "tags"), "load", str(Path(directory) / "batch")], check=True, stdout=subprocess.DEVNULL)
        load_s = time.perf_counter() - started
    nightly_before = client.query("SELECT run_id FROM tags.published_lanes WHERE lane = 'nightly'").result_rows
    run = measured_refresh(client, "--intraday", "--cutoff", f"{cutoff:%Y-%m-%d %H:%M}")
    seen = int(client.command("SELECT uniqExact(customer_id) FROM tags.customer_tags WHERE tag_key = "
                              "'paid_awaiting_shipment' AND customer_id IN %(c)s", parameters={"c": customers}))
    lanes = {lane: (run_id, str(cutoff_at)) for lane, run_id, cutoff_at in client.query(
        "SELECT lane, run_id, cutoff FROM tags.published_lanes").result_rows}
    return {"payments": len(customers), "load_s": round(load_s, 2), "run": asdict(run), "cutoff": str(cutoff),
            "payments_seen": seen, "interval_s": INTERVAL_S, "lookup_ms": lookup_ms(client),
            "nightly_run_kept": bool(nightly_before) and lanes.get("nightly", ("",))[0] == nightly_before[0][0],
            "lanes": lanes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True, help="warehouse directory with a published night")
    parser.add_argument("--cutoff", required=True, help="the run's cutoff, 'YYYY-MM-DD HH:MM' (after the night's)")
    parser.add_argument("--out", type=Path, help="JSON output (default: intraday.json beside the warehouse)")
    args = parser.parse_args()
    os.environ["WAREHOUSE_DIR"] = str(args.warehouse.resolve())
    from bench.__main__ import measured_refresh
    from orchestration.warehouse import db

    figures = measure(db.client(), dt.datetime.fromisoformat(args.cutoff), measured_refresh)
    out = args.out or args.warehouse.resolve().parent / "intraday.json"
    out.write_text(json.dumps(figures, indent=1, default=str) + "\n")
    print(json.dumps(figures, indent=1, default=str))


if __name__ == "__main__":
    main()
