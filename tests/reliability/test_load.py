"""BI clients reading while the nightly refresh runs: no errors, and never a mix of two runs.

Eight bi_reader clients on loopback loop over what dashboards read (the profile, the tag list
against the long table, audience sizes), 0.1 s apart, for as long as the next night's refresh runs. Every read
must succeed and be internally consistent: tag_catalog's member_count equals the rows of that tag
in customer_tags for the same as_of, and audience_catalog's size equals its bitmap's. In `make test`
on the session's demo night (2,000 customers); at another scale with RELIABILITY_LOAD_CUSTOMERS (the
figures in RELIABILITY.md are from 20,000 and 300,000). Latencies and counts go to
reports/reliability/load.json.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import clickhouse_connect
import pytest

from orchestration.catalog import catalog
from orchestration.dagster import refresh
from orchestration.warehouse import demo
from tests.conftest import BI_TEST_PASSWORD, TAGS_COMMAND
from tests.integration.known import AS_OF
from tests.reliability.conftest import SUMMARY, record

DAY_2 = AS_OF + dt.timedelta(days=1)
SCALE = int(os.environ.get("RELIABILITY_LOAD_CUSTOMERS", "0"))  # 0: the demo night's
CUSTOMERS = SCALE or 2000
CLIENTS = 8
MAX_READS_PER_CLIENT = 5000  # bounded, whatever the refresh's length
# A dashboard's pause between two reads. Without it, eight clients of small fast reads took what the refresh needed
# of the 2 cores: the demo night's next night took 194 s under them.
THINK_SECONDS = 0.1

READS = {
    # (as_of, tags, tags whose member_count disagrees with the long table of the same as_of; customers, not rows:
    # a labels tag has a row per value)
    "tag list vs long table": """
        SELECT any(c.as_of), count(), countIf(c.member_count != l.members OR (l.members > 0 AND l.as_of != c.as_of))
        FROM tags.tag_catalog AS c
        LEFT JOIN (SELECT as_of, tag_key, uniqExact(customer_id) AS members FROM tags.customer_tags
                   GROUP BY as_of, tag_key) AS l
            USING (tag_key)
        WHERE c.status != 'archived'""",
    # (as_of, customers, customers whose profile row is another day's)
    "profile": "SELECT any(as_of), count(), countIf(as_of != (SELECT any(as_of) FROM tags.customer_profile)), "
               "sum(vip) FROM tags.customer_profile",
    # (as_of, audiences, audiences whose size disagrees with their bitmap)
    "audience sizes": """
        SELECT (SELECT max(as_of) FROM audiences.audience_sizes), count(), countIf(c.member_count != b.member_count)
        FROM audiences.audience_catalog AS c INNER JOIN audiences.audience_bitmaps AS b USING (audience_key)
        WHERE c.status = 'live'""",
}


@pytest.fixture(scope="module")
def first_night(demo_night, client):
    if SCALE:  # another scale: the demo made anew at it, and its night
        demo.generate(client, CUSTOMERS, 42, AS_OF)
        outcome = refresh.run(AS_OF, None, catalog.load())
        assert outcome.success and outcome.published, outcome.failures


def bi_reader(server):
    return clickhouse_connect.get_client(host="127.0.0.1", port=server.http_port, username="bi_reader",
                                         password=BI_TEST_PASSWORD, autogenerate_session_id=False)


@pytest.mark.slow  # a night under eight readers: 150 s on the demo night
def test_bi_reads_during_a_refresh_never_fail_and_never_mix_two_runs(first_night, server, client):
    process = subprocess.Popen([TAGS_COMMAND, "refresh", "--as-of", DAY_2.isoformat()], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    refreshing = threading.Event()
    refreshing.set()
    latencies: dict[str, list[float]] = {name: [] for name in READS}
    errors: list[str] = []
    mixed: list[tuple] = []
    seen_days: set[dt.date] = set()
    lock = threading.Lock()

    def reader(number: int) -> None:
        bi = bi_reader(server)
        names = list(READS)
        for i in range(MAX_READS_PER_CLIENT):
            if not refreshing.is_set() and i % len(names) == 0:
                break
            name = names[(i + number) % len(names)]
            started = time.perf_counter()
            try:
                row = bi.query(READS[name]).result_rows[0]
            except Exception as exc:  # noqa: BLE001 - every failure of a read counts
                with lock:
                    errors.append(f"{name}: {exc}")
                continue
            elapsed = time.perf_counter() - started
            time.sleep(THINK_SECONDS)
            with lock:
                latencies[name].append(elapsed)
                seen_days.add(row[0])
                if row[2] != 0 or row[1] == 0:
                    mixed.append((name, row))

    with ThreadPoolExecutor(CLIENTS) as pool:
        readers = [pool.submit(reader, n) for n in range(CLIENTS)]
        started = time.perf_counter()
        output, _ = process.communicate(timeout=3600)
        refresh_seconds = time.perf_counter() - started
        time.sleep(1)  # a last round of reads after the switch
        refreshing.clear()
        for r in readers:
            r.result()

    assert process.returncode == 0, output
    reads = sum(len(v) for v in latencies.values())
    figures = {
        "customers": CUSTOMERS, "clients": CLIENTS, "refresh_seconds": round(refresh_seconds, 1), "reads": reads,
        "errors": len(errors), "mixed_reads": len(mixed), "first_errors": errors[:3], "first_mixed": [str(m) for m in mixed[:3]],
        "latency_ms": {name: {"p50": round(statistics.median(v) * 1000, 1),
                              "p95": round(statistics.quantiles(v, n=20)[18] * 1000, 1),
                              "max": round(max(v) * 1000, 1), "reads": len(v)} for name, v in latencies.items()},
    }
    (SUMMARY.parent).mkdir(parents=True, exist_ok=True)
    (SUMMARY.parent / "load.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))

    assert errors == [], errors[:5]
    assert mixed == [], mixed[:5]
    assert seen_days == {AS_OF, DAY_2}  # the reads spanned the switch to the new run
    assert reads >= CLIENTS * len(READS)
    p95 = max(f["p95"] for f in figures["latency_ms"].values())
    record(client, "load", f"{CLIENTS} BI clients reading during a refresh ({CUSTOMERS:,} customers)", reads,
           f"0 errors, 0 mixed reads; slowest p95 {p95:.0f} ms")
