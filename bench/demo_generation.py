"""How long generating demo data takes: `python -m bench.demo_generation --customers 1000000`.

Starts its own embedded warehouse in a temporary directory on free ports, generates, prints the
time and row counts, and stops. A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    http_port, tcp_port = free_port(), free_port()
    os.environ["WAREHOUSE_HTTP_PORT"] = str(http_port)
    from orchestration.warehouse import db, demo, warehouse

    with tempfile.TemporaryDirectory(prefix="bench-demo-") as directory:
        root = Path(directory)
        warehouse.start(root, http_port, tcp_port)
        try:
            started = time.perf_counter()
            counts = demo.generate(
                db.client(), args.customers, args.seed, dt.date(2026, 11, 23),
                progress=lambda label, done, total, seconds: print(f"  [{done:>2}/{total}] {label:<50} {seconds:6.2f} s", flush=True),
            )
            elapsed = time.perf_counter() - started
        finally:
            warehouse.stop(root)
    print(f"\ngenerated {args.customers:,} customers in {elapsed:.1f} s on {os.cpu_count()} cores")
    for table, rows in counts.items():
        print(f"  raw.{table:<24} {rows:>14,} rows")


if __name__ == "__main__":
    main()
