"""The warehouse's disk fills up mid-week: the refresh fails cleanly, yesterday's tags stay whole and
readable, and once space returns the next refresh publishes.

The data directory is a small tmpfs of its own (mount needs root, as on CI's machine).
"""

from __future__ import annotations

import datetime as dt
import errno
import subprocess
from pathlib import Path

import pytest

from orchestration.catalog import catalog
from orchestration.dagster import refresh
from orchestration.warehouse import db, demo
from orchestration.warehouse import warehouse
from tests.conftest import published_state, running_server, tags_cli
from tests.integration.known import AS_OF
from tests.reliability.conftest import assert_clear_error, record

DAY_2 = AS_OF + dt.timedelta(days=1)
DISK_MB = 256  # about 8 times what 2,000 demo customers and a few nights take


@pytest.fixture(scope="module")
def small_disk(tmp_path_factory) -> Path:
    mount_point = tmp_path_factory.mktemp("small_disk")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", "--lazy", str(mount_point)], check=False)


@pytest.fixture(scope="module")
def server(small_disk):
    with running_server(small_disk / "warehouse") as instance:
        yield instance


def fill(directory: Path) -> Path:
    """Write a file until the disk is full."""
    filler = directory / "filler"
    chunk = b"\0" * (1 << 20)
    with filler.open("wb") as out:
        while True:
            try:
                out.write(chunk)
                out.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
    return filler


@pytest.mark.slow
def test_a_full_disk_fails_the_refresh_cleanly_and_yesterdays_tags_survive(server, small_disk):
    client = db.client()
    demo.generate(client, 2000, 42, AS_OF)
    outcome = refresh.run(AS_OF, None, catalog.load())
    assert outcome.success and outcome.published, outcome.failures
    before = published_state(client)

    filler = fill(small_disk)
    output = assert_clear_error(tags_cli("refresh", "--as-of", DAY_2.isoformat()), "nothing was published")
    filler.unlink()  # space returns

    if not warehouse.status(server.root).healthy:  # the server may have stopped on a failed write of its own
        warehouse.stop(server.root)
        warehouse.start(server.root, server.http_port, server.tcp_port)
    client = db.client()
    assert published_state(client) == before

    result = tags_cli("refresh", "--as-of", DAY_2.isoformat())
    assert result.returncode == 0, result.stdout[-3000:]
    assert client.query("SELECT DISTINCT as_of FROM tags.customer_tags").result_rows == [(DAY_2,)]
    reason = "not enough space" if "space" in output.lower() else "a failed write"
    record(client, "fault", f"data disk full ({DISK_MB} MB tmpfs) during a refresh", 1,
           f"refresh fails ({reason}); tags unchanged and readable; next refresh publishes")
