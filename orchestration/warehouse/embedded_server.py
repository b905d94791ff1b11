"""The embedded ClickHouse server: chDB's engine listening on loopback like clickhouse-server.

Run as `python -m orchestration.warehouse.embedded_server --config-file DIR/config.xml`, the same command line
as `clickhouse-server`, so warehouse.SERVER_COMMAND can point at a real binary instead.

chDB has no public way to listen, so this is the one module that uses its private entry point:
`_chdb.query(sql, fmt, path=...)` started from a directory holding config.xml accepts
`SYSTEM START LISTEN`, and a never-ending query keeps the engine (and its listeners) alive.
In-process queries are serialised behind that keep-alive query, so shutdown talks to the server
over its own HTTP interface instead.

The engine logs itself in as `default` with no password, a fixed part of chDB, and reads users.xml
once (no reload). So `default` is not given a password hash in users.xml but logs in through an
HTTP authenticator (ClickHouse's <http_authentication_servers>) that this process runs on
loopback: it lets in the engine's own login, the first, made before the listeners start, and
from then on only `default` with the pipeline password (TAGS_WAREHOUSE_PASSWORD in this process's
environment, else the warehouse directory's file; its SHA-256 is compared). Clients of the HTTP
and native ports therefore need the password for `default`; bi_reader keeps its own SHA-256.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.server
import os
import signal
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

KEEPALIVE_QUERY_ID = "embedded-server-keepalive"
SHUTDOWN_GRACE_SECONDS = 30
AUTHENTICATOR = "tags_pipeline_login"  # the <http_authentication_servers> entry `default` logs in through
PIPELINE_USER = "default"


def _http(port: int, sql: str, timeout: float = 10) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", data=sql.encode(),
                                     headers={"X-ClickHouse-User": PIPELINE_USER, "X-ClickHouse-Key": _password()})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read().decode()


_PASSWORD: list[str] = []


def _password() -> str:
    return _PASSWORD[0] if _PASSWORD else ""


class _Authenticator(http.server.BaseHTTPRequestHandler):
    """Answers the engine's question "may this user log in with this password?" (HTTP Basic): yes to
    the first login, the engine's own, which comes before anything listens; then yes only to
    `default` with the pipeline password."""

    engine_logged_in = False
    lock = threading.Lock()

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        user, password = "", ""
        scheme, _, encoded = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(encoded).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                pass
        with _Authenticator.lock:
            if not _Authenticator.engine_logged_in:
                _Authenticator.engine_logged_in = True
                allowed = user == PIPELINE_USER and password == ""
            else:
                allowed = user == PIPELINE_USER and hmac.compare_digest(
                    hashlib.sha256(password.encode()).digest(), hashlib.sha256(_password().encode()).digest())
        self.send_response(200 if allowed else 401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def _start_authenticator(config_path: Path, config: ET.Element) -> None:
    """Serve the authenticator on a free loopback port and name it in config.xml for the engine."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Authenticator)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for old in config.findall("http_authentication_servers"):
        config.remove(old)
    section = ET.SubElement(config, "http_authentication_servers")
    entry = ET.SubElement(section, AUTHENTICATOR)
    ET.SubElement(entry, "uri").text = f"http://127.0.0.1:{server.server_address[1]}/"
    ET.SubElement(entry, "connection_timeout_ms").text = "2000"
    ET.SubElement(entry, "receive_timeout_ms").text = "10000"
    ET.SubElement(entry, "max_tries").text = "1"  # a second try of the engine's login would be refused
    staged = config_path.with_name(f".{config_path.name}.{os.getpid()}")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(ET.tostring(config))
    os.replace(staged, config_path)


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
    from orchestration import settings

    password = settings.warehouse_password(config_path.parent)
    if not password:
        print(f"embedded server: no pipeline password: set {settings.WAREHOUSE_PASSWORD_VARIABLE} or start it "
              "with `tags warehouse start`", file=sys.stderr, flush=True)
        return 1
    _PASSWORD.append(password)
    _start_authenticator(config_path, config)
    # Imported in an empty directory: importing chdb opens (and closes) an engine of its own, which
    # must not read a config.xml and spend the one login the authenticator allows. Then into the
    # warehouse directory: chDB reads config.xml from the working directory.
    with tempfile.TemporaryDirectory(prefix="embedded-server-import-") as empty:
        os.chdir(empty)
        from chdb import _chdb  # noqa: F401 - private on purpose: see the module docstring
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
