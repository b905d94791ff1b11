"""A ClickHouse client for the active target (the embedded server by default)."""

from __future__ import annotations

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import OperationalError

from orchestration import settings


class WarehouseUnreachable(RuntimeError):
    pass


def client(**session_settings) -> Client:
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
