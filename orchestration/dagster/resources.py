"""Dagster resources: dbt, and the warehouse the Python steps query."""

from __future__ import annotations

import contextlib

import dagster as dg
from clickhouse_connect.driver.client import Client

from orchestration.dagster import dbt_runner
from orchestration.warehouse import db, refresh_lock


class WarehouseResource(dg.ConfigurableResource):
    """The ClickHouse of the active dbt target (settings.connection(): the same variables as profiles.yml)."""

    def client(self, context) -> Client:
        """A connected client, or a retry of the step with backoff, or a clear failure."""
        try:
            client = db.client()
            client.command("SELECT 1")
            return client
        except Exception as exc:  # noqa: BLE001 - anything that stops us talking to the server
            retry = getattr(context, "op_execution_context", context).retry_number
            waits = db.retry_waits()  # the policy of db.connect, as Dagster retries so the UI shows them
            if retry < len(waits):
                context.log.warning(f"warehouse unreachable ({exc}); retry {retry + 1} of {len(waits)} in {waits[retry]:g} s")
                raise dg.RetryRequested(max_retries=len(waits), seconds_to_wait=waits[retry]) from exc
            raise dg.Failure(description=f"the warehouse is unreachable after {len(waits)} retries: {exc}") from exc


class RefreshLock(dg.ConfigurableResource):
    """The warehouse's refresh lock (refresh_lock.py), held from the run's start to its end: the nightly
    job runs in one process (in_process_executor), so resources live as long as the run."""

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext):
        with refresh_lock.held(context.run.run_id if context.run else "unknown"):
            yield self


def resources() -> dict:
    return {"dbt": dbt_runner.resource(), "warehouse": WarehouseResource(), "refresh_lock": RefreshLock()}
