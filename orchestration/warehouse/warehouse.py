"""Start, stop and inspect the embedded warehouse: a ClickHouse server on loopback.

The server process is `SERVER_COMMAND --config-file <dir>/config.xml`; to use a real ClickHouse
binary instead of the embedded engine, change SERVER_COMMAND to ["clickhouse-server"].

The pipeline's user `default` has a password (settings.warehouse_password): TAGS_WAREHOUSE_PASSWORD
if given, else one generated at the first start into the warehouse directory (mode 0600). A real
server checks its SHA-256 in users.xml; the embedded engine logs itself in as `default` with no
password, so there `default` logs in through the embedded server's authenticator
(embedded_server.py), which lets that one login in and then only the password. BI's bi_reader and
its limits: bi_access.py.
"""

from __future__ import annotations

import errno
import fcntl
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from orchestration import settings
from orchestration.warehouse import bi_access

SERVER_COMMAND = [sys.executable, "-m", "orchestration.warehouse.embedded_server"]
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 45


class WarehouseError(RuntimeError):
    """A warehouse problem with a message that says what to do."""


@dataclass(frozen=True)
class Layout:
    """Files of one warehouse directory."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.xml"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def users(self) -> Path:
        return self.root / "users.xml"

    @property
    def pid_file(self) -> Path:
        return self.root / "warehouse.pid"

    @property
    def lock_file(self) -> Path:
        return self.root / "warehouse.lock"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"


@dataclass(frozen=True)
class Status:
    running: bool
    pid: int | None
    http_port: int | None
    tcp_port: int | None
    healthy: bool

    def describe(self, root: Path) -> str:
        if not self.running:
            return f"warehouse stopped (directory {root})"
        health = "healthy" if self.healthy else "not answering /ping"
        return f"warehouse running, pid {self.pid}, HTTP {self.http_port}, native TCP {self.tcp_port}, {health} (directory {root})"


def _embedded() -> bool:
    """Whether SERVER_COMMAND is the embedded engine (not a real clickhouse-server)."""
    return SERVER_COMMAND[-1] == "orchestration.warehouse.embedded_server"


def _replicas_log_in(extra: str, password: str | None) -> str:
    """The <remote_servers> replicas of `extra` that name no user log in as `default` with the pipeline
    password (the servers of one embedded cluster share it), as a Distributed table needs."""
    if not password or "<replica>" not in extra:
        return extra
    wrapper = ElementTree.fromstring(f"<extra>{extra}</extra>")
    for replica in wrapper.iter("replica"):
        if replica.find("user") is None:
            ElementTree.SubElement(replica, "user").text = "default"
            ElementTree.SubElement(replica, "password").text = password
    return (wrapper.text or "") + "".join(ElementTree.tostring(child, encoding="unicode") for child in wrapper)


def config_xml(data_dir: Path, http_port: int, tcp_port: int, users_file: Path | None = None,
               extra: str = "", pipeline_password: str | None = None) -> str:
    """config.xml for the server: loopback only, ClickHouse's ports, a memory limit (settings.py), a query log for usage
    figures, a part log (each part written, merged or removed, per table: what a night's background merges cost), and
    the users of users.xml (the pipeline's `default` and the read-only BI user, bi_access.py).
    `extra` is more configuration, such as the <remote_servers> of orchestration/warehouse/shards.py, whose
    replicas log in with pipeline_password."""
    users = (f"\n    <user_directories><users_xml><path>{escape(str(users_file))}</path></users_xml></user_directories>"
             if users_file else "")
    extra = _replicas_log_in(extra, pipeline_password)
    return f"""<clickhouse>
    <path>{escape(str(data_dir))}/</path>{users}{extra}
    <listen_host>127.0.0.1</listen_host>
    <max_server_memory_usage>{settings.warehouse_max_memory_bytes()}</max_server_memory_usage>
    <memory_worker_dynamic_hard_limit>0</memory_worker_dynamic_hard_limit>
    <http_port>{http_port}</http_port>
    <tcp_port>{tcp_port}</tcp_port>
    <query_log>
        <database>system</database>
        <table>query_log</table>
        <flush_interval_milliseconds>7500</flush_interval_milliseconds>
    </query_log>
    <part_log>
        <database>system</database>
        <table>part_log</table>
        <flush_interval_milliseconds>7500</flush_interval_milliseconds>
    </part_log>
</clickhouse>
"""


def ping(port: int, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=timeout) as response:
            return response.read().strip() == b"Ok."
    except (urllib.error.URLError, OSError):
        return False


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child (started by this very process) is not alive.
    try:
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        return True


def _configured_ports(layout: Layout) -> tuple[int | None, int | None]:
    import xml.etree.ElementTree as ET

    try:
        root = ET.parse(layout.config).getroot()
        return int(root.findtext("http_port")), int(root.findtext("tcp_port"))
    except (FileNotFoundError, ET.ParseError, TypeError, ValueError):
        return None, None


def status(root: Path) -> Status:
    layout = Layout(root)
    pid = _read_int(layout.pid_file)
    http_port, tcp_port = _configured_ports(layout)
    running = _alive(pid)
    healthy = running and http_port is not None and ping(http_port)
    return Status(running, pid if running else None, http_port, tcp_port, healthy)


def _check_port_free(port: int, name: str, variable: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Like the server itself, ignore connections of a previous run still in TIME_WAIT.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise WarehouseError(
                    f"port {port} ({name}) is already in use on 127.0.0.1: stop what listens there, "
                    f"or set {variable} to a free port"
                ) from None
            raise


def _take_lock(layout: Layout) -> int:
    """Lock the directory; the server process inherits the lock and holds it while it lives."""
    fd = os.open(layout.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        owner = _read_int(layout.pid_file)
        raise WarehouseError(
            f"warehouse directory {layout.root} is locked by another process"
            f"{f' (pid {owner})' if owner else ''}: one directory belongs to one server. "
            "Stop it with `tags warehouse stop`, or set WAREHOUSE_DIR to another directory"
        ) from None
    return fd


def start(root: Path, http_port: int, tcp_port: int, timeout: float = START_TIMEOUT_SECONDS,
          extra_config: str = "") -> Status:
    """Start the server on root unless it already runs there; return once it answers /ping."""
    layout = Layout(root)
    current = status(root)
    if current.running and current.healthy:
        return current
    root.mkdir(parents=True, exist_ok=True)
    lock_fd = _take_lock(layout)
    try:
        _check_port_free(http_port, "HTTP", "WAREHOUSE_HTTP_PORT")
        _check_port_free(tcp_port, "native TCP", "WAREHOUSE_TCP_PORT")
        layout.data.mkdir(exist_ok=True)
        password = pipeline_password(root)
        if _embedded():
            from orchestration.warehouse.embedded_server import AUTHENTICATOR
            users = bi_access.users_xml(bi_access.password(), pipeline_authenticator=AUTHENTICATOR)
        else:
            users = bi_access.users_xml(bi_access.password(), pipeline_password=password)
        _write_private(layout.users, users)
        _write_private(layout.config, config_xml(layout.data, http_port, tcp_port, layout.users, extra_config, password))
        with open(layout.log_file, "ab") as log:
            process = subprocess.Popen(
                [*SERVER_COMMAND, "--config-file", str(layout.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # survives the CLI that started it
                pass_fds=(lock_fd,),
                env={**os.environ, "PYTHONPATH": _package_root(), settings.WAREHOUSE_PASSWORD_VARIABLE: password},
            )
    finally:
        os.close(lock_fd)  # the child keeps its inherited copy of the lock
    layout.pid_file.write_text(f"{process.pid}\n")

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            layout.pid_file.unlink(missing_ok=True)
            raise WarehouseError(f"warehouse server exited during start-up; last lines of {layout.log_file}:\n{_tail(layout.log_file)}")
        if ping(http_port):
            _create_connection_database(http_port, password)
            return status(root)
        time.sleep(0.2)
    stop(root)
    raise WarehouseError(f"warehouse server did not answer /ping on port {http_port} within {timeout:.0f} s; see {layout.log_file}")


def pipeline_password(root: Path) -> str:
    """The password of the server on root: given in the environment, else the directory's file, else a
    new one written there (0600). Handed down, so that dbt and every client this process starts use it."""
    password_file = settings.warehouse_password_file(root)
    given = settings.given_warehouse_password()
    if given:
        try:
            if password_file.read_text().strip() != given:
                password_file.unlink()  # a stale copy would mislead the next client that reads it
        except FileNotFoundError:
            pass
        password = given
    else:
        password = settings.warehouse_password(root)
        if password is None:
            password = secrets.token_urlsafe(24)
            fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(password + "\n")
    settings.hand_down_warehouse_password(password)
    return password


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (users.xml, config.xml with a cluster's password)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def stop(root: Path, timeout: float = STOP_TIMEOUT_SECONDS) -> bool:
    """Stop the server with SIGTERM (it drains running queries first). Returns False if none was running."""
    layout = Layout(root)
    pid = _read_int(layout.pid_file)
    if not _alive(pid):
        layout.pid_file.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.1)
    layout.pid_file.unlink(missing_ok=True)
    return True


# The database dbt connects to on the embedded targets (profiles.yml `schema`): Atomic, unlike chDB's
# own `default`, so that dbt-clickhouse swaps views and tables in atomically. Made here because on
# two_shards dbt-clickhouse would create it ON CLUSTER, which the embedded engine cannot run.
CONNECTION_DATABASE = "dbt_connection"


def _create_connection_database(http_port: int, password: str) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{http_port}/",
                                     data=f"CREATE DATABASE IF NOT EXISTS {CONNECTION_DATABASE} ENGINE = Atomic".encode(),
                                     headers={"X-ClickHouse-User": "default", "X-ClickHouse-Key": password})
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def _package_root() -> str:
    return str(Path(__file__).resolve().parents[2])


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"
