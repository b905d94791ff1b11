"""Dagster resources: dbt, and the warehouse the Python steps query."""

from __future__ import annotations

import dagster as dg
from clickhouse_connect.driver.client import Client
from dagster_dbt import DbtCliResource

from orchestration import db
from orchestration.project import DBT_EXECUTABLE, PROJECT

# Transient warehouse trouble (a restart, a dropped connection) is retried this many times, waiting
# 5, 10, 20 s; then the step fails saying which warehouse it could not reach.
WAREHOUSE_RETRIES = 3


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
            if retry < WAREHOUSE_RETRIES:
                wait = 5 * 2 ** retry
                context.log.warning(f"warehouse unreachable ({exc}); retry {retry + 1} of {WAREHOUSE_RETRIES} in {wait} s")
                raise dg.RetryRequested(max_retries=WAREHOUSE_RETRIES, seconds_to_wait=wait) from exc
            raise dg.Failure(description=f"the warehouse is unreachable after {WAREHOUSE_RETRIES} retries: {exc}") from exc


def resources() -> dict:
    dbt = DbtCliResource(project_dir=PROJECT, dbt_executable=DBT_EXECUTABLE)
    return {"dbt": dbt, "warehouse": WarehouseResource()}
