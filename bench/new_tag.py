"""From one new catalog row to a queryable tag: `python -m bench.new_tag [--customers 10000]`.

Starts its own embedded warehouse in a temporary directory on free ports, generates demo data,
runs one full `tags refresh`, then appends one rule tag to seeds/tag_catalog.csv and times the
single command `tags refresh --select <key>` until the tag is in tags.customer_tags. The catalog
and the generated files are restored afterwards. A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.demo_generation import free_port

NEW_ROW = ("bench_big_basket,value-big basket,value,rule,flag,avg_order_value >= {min_aov},min_aov=400,data-eng,"
           "Benchmark tag: average order value of 400 or more.,active,0,1,coverage,hold_tag,day_end,nightly,bench,2026-11-23\n")


def tags(*args: str) -> float:
    """Run the `tags` command as a user would; return its wall time."""
    started = time.perf_counter()
    done = subprocess.run([str(Path(sys.executable).with_name("tags")), *args], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:  # say why, not only that it failed: the output's last lines
        tail = "\n".join(done.stdout.splitlines()[-30:])
        raise SystemExit(f"bench: `tags {' '.join(args)}` failed with exit code {done.returncode}:\n{tail}")
    return time.perf_counter() - started


@contextlib.contextmanager
def published_demo(customers: int, as_of: str, prefix: str):
    """A warehouse of its own (temporary directory, free ports) with demo data and one full refresh published."""
    with tempfile.TemporaryDirectory(prefix=prefix) as directory:
        os.environ.update({"WAREHOUSE_DIR": directory, "WAREHOUSE_HTTP_PORT": str(free_port()),
                           "WAREHOUSE_TCP_PORT": str(free_port())})
        tags("warehouse", "start")
        try:
            print(f"demo data, {customers:,} customers: {tags('demo', '--customers', str(customers), '--as-of', as_of):.1f} s")
            print(f"full refresh (build, checks, publish): {tags('refresh', '--as-of', as_of):.1f} s", flush=True)
            yield
        finally:
            tags("warehouse", "stop")


def time_new_tag(as_of: str) -> tuple[float, int]:
    """Append one rule tag to the catalog, time `tags refresh --select` until it is in tags.customer_tags;
    restore the catalog and the generated files. Returns the seconds and the tag's members."""
    from orchestration.catalog import catalog, catalog_sync
    from orchestration.warehouse import db

    original = catalog.CATALOG_FILE.read_text()
    try:
        catalog.CATALOG_FILE.write_text(original + NEW_ROW)
        seconds = tags("refresh", "--as-of", as_of, "--select", "bench_big_basket")
        members = int(db.client().command("SELECT count() FROM tags.customer_tags WHERE tag_key = 'bench_big_basket'"))
    finally:
        catalog.CATALOG_FILE.write_text(original)
        catalog_sync.sync(catalog.load())
    return seconds, members


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    args = parser.parse_args()
    as_of = dt.date(2026, 11, 23).isoformat()

    with published_demo(args.customers, as_of, "bench-new-tag-"):
        seconds, members = time_new_tag(as_of)
        print(f"one new catalog row -> queryable in tags.customer_tags ({members:,} members): {seconds:.1f} s "
              f"on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
