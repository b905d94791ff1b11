"""The embedded ClickHouse server: chDB's engine listening on loopback like clickhouse-server.

Run as `python -m orchestration.embedded_server --config-file DIR/config.xml`, the same command line
as `clickhouse-server`, so warehouse.SERVER_COMMAND can point at a real binary instead.

chDB has no public way to listen, so this is the one module that uses its private entry point:
`_chdb.query(sql, fmt, path=...)` started from a directory holding config.xml accepts
`SYSTEM START LISTEN`, and a never-ending query keeps the engine (and its listeners) alive.
In-process queries are serialised behind that keep-alive query, so shutdown talks to the server
over its own HTTP interface instead.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

KEEPALIVE_QUERY_ID = "embedded-server-keepalive"
SHUTDOWN_GRACE_SECONDS = 30


def _http(port: int, sql: str, timeout: float = 10) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", data=sql.encode())
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read().decode()


def _serve(data_path: str, failure: list[BaseException]) -> None:
    from chdb import _chdb  # private on purpose: see the module docstring

    try:
        _chdb.query(
            "SYSTEM START LISTEN HTTP; SYSTEM START LISTEN TCP; "
            "SELECT sleepEachRow(1) FROM system.numbers "
            f"SETTINGS max_block_size = 1 FORMAT Null",
            "TabSeparated",
            path=data_path,
        )
    except BaseException as exc:  # reported by the main thread
        failure.append(exc)


def _drain(http_port: int) -> None:
    """Let running client queries finish (up to a grace period), then flush the logs to disk."""
    deadline = time.monotonic() + SHUTDOWN_GRACE_SECONDS
    busy = "SELECT count() FROM system.processes WHERE query NOT LIKE '%sleepEachRow%' AND query NOT LIKE '%system.processes%'"
    try:
        while time.monotonic() < deadline and int(_http(http_port, busy).strip() or 0) > 0:
            time.sleep(0.2)
        _http(http_port, "SYSTEM FLUSH LOGS")
    except (urllib.error.URLError, OSError, ValueError):
        pass  # the engine is already gone: nothing left to drain


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config-file", required=True, type=Path)
    args = parser.parse_args(argv)

    config_path = args.config_file.resolve()
    config = ET.parse(config_path).getroot()
    data_path = config.findtext("path")
    http_port = int(config.findtext("http_port"))
    # chDB reads config.xml from the working directory.
    os.chdir(config_path.parent)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    failure: list[BaseException] = []
    server = threading.Thread(target=_serve, args=(data_path, failure), daemon=True)
    server.start()
    while not stop.is_set() and server.is_alive():
        stop.wait(0.5)

    if failure or not server.is_alive():
        print(f"embedded server stopped: {failure[0] if failure else 'engine exited'}", file=sys.stderr, flush=True)
        os._exit(1)
    _drain(http_port)
    print("embedded server stopped cleanly", flush=True)
    # The engine has no public shutdown; every part it wrote is already renamed into place.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
