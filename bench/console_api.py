"""A customer's tags through the console's HTTP API (GET /api/customers/{id}/tags), as another service asks it.

Serves the API (orchestration/console/api.py) with uvicorn on a free port against the bench's warehouse, makes a
viewer for the run, and asks REQUESTS customers drawn at random from the published customer index, one request at
a time over one kept-alive HTTP connection. Wall time per request as the client sees it: p50, p95, p99. A
benchmark, not a test: nothing is asserted but the answers' status.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
import uuid

REQUESTS = 300


def measure(client, requests: int = REQUESTS, seed: int = 42) -> dict[str, float]:
    import httpx
    import uvicorn

    from bench.demo_generation import free_port
    from orchestration.console import accounts, api

    customers = [r[0] for r in client.query("SELECT customer_id FROM tags.customer_index").result_rows]
    asked = random.Random(seed).choices(customers, k=requests + 20)
    token = accounts.add(client, f"bench-{uuid.uuid4().hex[:8]}", "viewer", "bench")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(api.create_app(lambda: client), host="127.0.0.1", port=port,
                                          log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    walls = []
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}) as http:
            for i, customer_id in enumerate(asked):
                started = time.perf_counter()
                response = http.get(f"/api/customers/{customer_id}/tags")
                elapsed = (time.perf_counter() - started) * 1000
                response.raise_for_status()
                if i >= 20:  # the first requests warm the connection and the server's caches
                    walls.append(elapsed)
    finally:
        server.should_exit = True
        thread.join(10)
    cuts = statistics.quantiles(walls, n=100, method="inclusive")
    return {"requests": len(walls), "p50_ms": cuts[49], "p95_ms": cuts[94], "p99_ms": cuts[98],
            "max_ms": max(walls)}
