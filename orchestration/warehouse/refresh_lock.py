"""One refresh writes to a warehouse at a time: an exclusive lock held for the whole run.

Two refreshes at once would write the same staging tables and race to publish. The lock is
fcntl.flock on a file per warehouse (in the embedded server's directory; for another target, in
.refresh-locks/ of this checkout, named after the server): the kernel releases it when the
holder exits, even by SIGKILL, so a killed run never leaves a stale lock. A second refresh is
refused at once, naming the holder; it writes nothing. The lock is re-entrant within one process
(`tags refresh` takes it before syncing the catalog, the job's resource takes it again).
Refreshes of one warehouse from two machines are not covered by a local file: run them from one
Dagster instance, which runs the nightly job one at a time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import re
from collections.abc import Iterator
from pathlib import Path

from orchestration import settings


class RefreshRunning(RuntimeError):
    """Another refresh holds the warehouse's lock."""


_held: dict[Path, tuple[int, int]] = {}  # lock file -> (descriptor, depth) held by this process


def lock_path() -> Path:
    if settings.dbt_target() in settings.EMBEDDED_TARGETS:
        return settings.warehouse_dir() / "refresh.lock"
    conn = settings.connection()
    return settings.PROJECT_DIR / ".refresh-locks" / re.sub(r"[^A-Za-z0-9.-]", "_", f"{conn.host}_{conn.port}.lock")


@contextlib.contextmanager
def held(run_id: str) -> Iterator[Path]:
    """Hold the warehouse's refresh lock for the block, or raise RefreshRunning naming who has it."""
    path = lock_path()
    if path in _held:
        fd, depth = _held[path]
        _held[path] = (fd, depth + 1)
        try:
            yield path
        finally:
            _held[path] = (fd, depth)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 400, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise RefreshRunning(
            f"another refresh is writing to the warehouse at {settings.connection().describe()} ({holder}; lock {path}): "
            "this one wrote nothing. Wait for it to finish (`tags warehouse status`, Dagster's runs page) and start again"
        ) from None
    try:
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}, run {run_id}, since {dt.datetime.now().isoformat(timespec='seconds')}\n".encode(), 0)
        except OSError:
            pass  # who holds it is for the message only (a full disk must not stop the run here)
        _held[path] = (fd, 1)
        yield path
    finally:
        _held.pop(path, None)
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the descriptor releases the lock
