"""The ingestion door: micro-batches dropped into the watched folder, loaded by the sensor's runs with `tags load`'s checks."""

from __future__ import annotations

import pytest

from orchestration.dagster.inbox import JOB_NAME, LOADED, REJECTED
from tests.integration.known import customer, load_raw

ORDERS_HEADER = "order_id,customer_id,ordered_at,status,amount,paid_at,shipped_at,delivered_at,completed_at,channel\n"


def drop_batch(inbox, name: str, orders_csv: str):
    """Write the batch beside the inbox (a dot folder), then move it in: what a writer of the inbox does."""
    staging = inbox / f".{name}"
    staging.mkdir(parents=True)
    (staging / "orders.csv").write_text(ORDERS_HEADER + orders_csv)
    staging.rename(inbox / name)


@pytest.fixture()
def inbox(tmp_path, monkeypatch, client):
    load_raw(client, customers=[customer("C1")])
    monkeypatch.setenv("TAGS_INBOX", str(tmp_path / "inbox"))
    (tmp_path / "inbox").mkdir()
    return tmp_path / "inbox"


def sensor_requests(instance):
    import dagster as dg

    from orchestration.dagster.definitions import defs

    result = defs.resolve_sensor_def("raw_inbox").evaluate_tick(dg.build_sensor_context(instance=instance))
    return result.run_requests, result.skip_message


def test_each_batch_is_loaded_once_or_refused_whole_with_the_reason_beside_it(inbox, client):
    import dagster as dg

    from orchestration.dagster.definitions import defs

    drop_batch(inbox, "0001", "B1,C1,2026-12-05 09:00:00,pending_payment,40.00,,,,,web\n")
    drop_batch(inbox, "0002", "B2,C1,2026-12-05 09:05:00,paid,ten,2026-12-05 09:06:00,,,,web\n")
    (inbox / ".0003").mkdir()  # still being written: not a batch yet

    with dg.instance_for_test() as instance:
        requests, _ = sensor_requests(instance)
        assert [r.run_config["ops"]["load_batch"]["config"]["batch"] for r in requests] == [
            str(inbox / "0001"), str(inbox / "0002")]
        job = defs.resolve_job_def(JOB_NAME)
        loaded, refused = (job.execute_in_process(run_config=r.run_config, instance=instance, raise_on_error=False)
                           for r in requests)

        assert loaded.success
        assert client.query("SELECT order_id, status FROM raw.orders").result_rows == [("B1", "pending_payment")]
        assert (inbox / LOADED / "0001" / "orders.csv").exists()

        assert not refused.success
        assert (inbox / REJECTED / "0002" / "orders.csv").exists()
        reason = (inbox / REJECTED / "0002.error.txt").read_text()
        assert reason.startswith("nothing of 0002 was loaded: ") and "orders.csv" in reason and "amount" in reason
        assert client.command("SELECT count() FROM raw.orders WHERE order_id = 'B2'") == 0

        requests, skipped = sensor_requests(instance)
        assert requests == [] and skipped.startswith("no batch in ")
