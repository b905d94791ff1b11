"""A ClickHouse client for the active target (the embedded server by default)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from orchestration import settings

if TYPE_CHECKING:
    from clickhouse_connect.driver.client import Client


class WarehouseUnreachable(RuntimeError):
    pass


class WarehouseRefused(WarehouseUnreachable):
    """The server answers but refuses the login: retrying does not help."""


class NotBuilt(ValueError):
    """A table dbt creates is not on the warehouse yet: nothing has been built there."""


def require_tables(client, *tables: str) -> None:
    """NotBuilt naming the tables (database.name) that dbt has not created on this warehouse yet."""
    missing = [table for table in tables if not client.command(f"EXISTS TABLE {table}")]
    if missing:
        raise NotBuilt(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not on the warehouse "
                       f"{settings.connection().describe()} yet: dbt creates {'it' if len(missing) == 1 else 'them'}; "
                       "run `tags refresh` first")


# Transient warehouse trouble (a restart, a dropped connection) is retried this many times, waiting
# WAREHOUSE_RETRY_SECONDS (default 5), then twice and four times that; then it fails naming the server.
WAREHOUSE_RETRIES = 3


def retry_waits() -> list[float]:
    """Seconds to wait before each retry: 5, 10, 20 by default."""
    value = os.environ.get("WAREHOUSE_RETRY_SECONDS", "5")
    try:
        base = float(value)
    except ValueError:
        raise ValueError(f"WAREHOUSE_RETRY_SECONDS must be a number of seconds, got {value!r}") from None
    return [base * 2 ** attempt for attempt in range(WAREHOUSE_RETRIES)]


def connect(on_retry: Callable[[str], None] = lambda message: None, **session_settings) -> Client:
    """A client of a warehouse that answers, retried with backoff (retry_waits); else WarehouseUnreachable."""
    from clickhouse_connect.driver.exceptions import OperationalError

    waits = retry_waits()
    for attempt, wait in enumerate([*waits, None]):
        try:
            connected = client(**session_settings)
            connected.command("SELECT 1")
            return connected
        except WarehouseRefused:
            raise
        except (WarehouseUnreachable, OperationalError) as exc:
            if wait is None:
                raise WarehouseUnreachable(f"{exc} (gave up after {len(waits)} retries)") from None
            on_retry(f"warehouse unreachable; retry {attempt + 1} of {len(waits)} in {wait:g} s")
            time.sleep(wait)
    raise AssertionError("unreachable")


def client(**session_settings) -> Client:
    # The driver loads here, not at import: it takes 0.2 s, which `tags --help` and the commands that never
    # reach the warehouse do not pay.
    import clickhouse_connect
    from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

    conn = settings.connection()
    try:
        return clickhouse_connect.get_client(
            host=conn.host,
            port=conn.port,
            username=conn.user,
            password=conn.password,
            secure=conn.secure,
            connect_timeout=10,
            send_receive_timeout=3600,
            settings=session_settings or None,
            # No HTTP session: the server runs one query per session at a time, so a client shared by
            # threads, or reused after an interrupted stream, would get SESSION_IS_LOCKED. Nothing
            # here relies on session state (temporary tables, SET).
            autogenerate_session_id=False,
        )
    except OperationalError as exc:
        hint = " (start it with `tags warehouse start`)" if settings.dbt_target() in settings.EMBEDDED_TARGETS else ""
        raise WarehouseUnreachable(f"cannot reach the warehouse at {conn.describe()}{hint}: {exc}") from None
    except DatabaseError as exc:
        if "AUTHENTICATION_FAILED" not in str(exc) and "Authentication failed" not in str(exc):
            raise
        if settings.dbt_target() in settings.EMBEDDED_TARGETS:
            hint = (f"the embedded server's password is {settings.WAREHOUSE_PASSWORD_VARIABLE} if it was started with "
                    f"it, else the file {settings.warehouse_password_file()} that `tags warehouse start` wrote")
        else:
            hint = "check CLICKHOUSE_USER and CLICKHOUSE_PASSWORD"
        raise WarehouseRefused(f"the warehouse at {conn.describe()} refused the login: {hint}") from None
