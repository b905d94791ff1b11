"""`tags load`: contract checks first, all or nothing."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.warehouse import contract, loader
from tests.conftest import tags_cli

CUSTOMERS_CSV = (
    "customer_id,signup_at,country,city,source_channel,member_tier,birth_year,segment,email,phone,crm_note\n"
    "L1,2026-01-05 10:00:00,DE,Berlin,instagram_ad,gold,1990,consumer,l1@example.com,,vip lead\n"
    "L2,2026-02-01T08:30:00Z,FR,Paris,website_form,none,,student,,+33100000000,\n"
)


def raw_counts(client) -> dict[str, int]:
    return {t: int(client.command(f"SELECT count() FROM raw.{t}")) for t in contract.raw_tables()}


@pytest.fixture(scope="module", autouse=True)
def raw_tables(client):
    contract.create_raw_tables(client)


def write_orders_parquet(path, **overrides):
    columns = {
        "order_id": ["LO1"], "customer_id": ["L1"], "ordered_at": pa.array([1767600000], pa.timestamp("s")),
        "status": ["paid"], "amount": pa.array([12.5], pa.float64()), "paid_at": pa.array([1767600100], pa.timestamp("s")),
        "shipped_at": pa.array([None], pa.timestamp("s")), "delivered_at": pa.array([None], pa.timestamp("s")),
        "completed_at": pa.array([None], pa.timestamp("s")), "channel": ["web"],
    }
    columns.update(overrides)
    pq.write_table(pa.table({k: v for k, v in columns.items() if v is not None}), path)


def test_loads_csv_and_parquet_with_extra_columns(client, tmp_path):
    (tmp_path / "customers.csv").write_text(CUSTOMERS_CSV)
    write_orders_parquet(tmp_path / "orders.parquet")
    before = raw_counts(client)
    appended = loader.load(client, tmp_path)
    assert appended == {"customers": 2, "orders": 1}
    after = raw_counts(client)
    assert after["customers"] == before["customers"] + 2 and after["orders"] == before["orders"] + 1
    row = client.query("SELECT birth_year, email, phone, _load_id FROM raw.customers WHERE customer_id = 'L2'").result_rows[0]
    assert row[0] is None and row[1] is None and row[2] == "+33100000000" and row[3].startswith("load-")
    assert client.command("SELECT toString(amount) FROM raw.orders WHERE order_id = 'LO1'") == "12.5"


def test_optional_columns_may_be_absent_and_load_as_null(client, tmp_path):
    # a customers file without the Nullable contact columns, an orders file without the optional timestamps
    (tmp_path / "customers.csv").write_text(
        "customer_id,signup_at,country,city,source_channel,member_tier,birth_year,segment\n"
        "N1,2026-01-05 10:00:00,DE,Berlin,instagram_ad,gold,1990,consumer\n")
    write_orders_parquet(tmp_path / "orders.parquet", order_id=["NO1"], customer_id=["N1"], shipped_at=None,
                         delivered_at=None, completed_at=None)
    assert loader.load(client, tmp_path) == {"customers": 1, "orders": 1}
    assert client.query("SELECT email, phone, birth_year FROM raw.customers WHERE customer_id = 'N1'").result_rows == [
        (None, None, 1990)]
    assert client.query("SELECT paid_at IS NOT NULL, shipped_at, completed_at FROM raw.orders WHERE order_id = 'NO1'"
                        ).result_rows == [(1, None, None)]
    # a column that is not Nullable stays required (the test below), and a present optional one is still checked
    (tmp_path / "customers.csv").write_text("customer_id,signup_at,country,city,source_channel,member_tier,birth_year,"
                                            "segment\nN2,2026-01-05 10:00:00,DE,Berlin,web,gold,nineteen,consumer\n")
    (tmp_path / "orders.parquet").unlink()
    with pytest.raises(loader.LoadError, match=r"customers\.csv: does not match raw\.customers: .*birth_year"):
        loader.load(client, tmp_path)


def test_a_missing_column_is_named_and_nothing_is_written(client, tmp_path):
    (tmp_path / "customers.csv").write_text(CUSTOMERS_CSV.replace("L1,", "L3,").replace("L2,", "L4,"))
    write_orders_parquet(tmp_path / "orders.parquet", status=None)  # drop the status column
    before = raw_counts(client)
    with pytest.raises(loader.LoadError, match=r"orders\.parquet: missing required column\(s\) status of raw\.orders"):
        loader.load(client, tmp_path)
    assert raw_counts(client) == before  # not even the good customers file


def test_a_bad_value_names_the_file_and_column_and_writes_nothing(client, tmp_path):
    (tmp_path / "customers.csv").write_text(CUSTOMERS_CSV.replace("2026-01-05 10:00:00", "not-a-date"))
    before = raw_counts(client)
    with pytest.raises(loader.LoadError, match=r"customers\.csv: does not match raw\.customers: .*signup_at"):
        loader.load(client, tmp_path)
    assert raw_counts(client) == before
    assert client.command("SELECT count() FROM system.tables WHERE database = 'raw_load'") == 0


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("customers.csv", b"", "the file is empty"),
        ("customers.csv", "customer_id,signup_at\n".encode("utf-16"), "not UTF-8 text"),
        ("customers.parquet", b"PAR1 this is not parquet", "not a readable Parquet file"),
        ("shoppers.csv", b"customer_id\nX\n", "no contract table is named 'shoppers'"),
    ],
)
def test_broken_files_are_refused_with_their_name(client, tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    before = raw_counts(client)
    with pytest.raises(loader.LoadError, match=message):
        loader.load(client, tmp_path)
    assert raw_counts(client) == before


def test_cli_load_failure_is_one_clear_line(server, tmp_path):
    (tmp_path / "orders.csv").write_text("order_id,customer_id\nX,Y\n")
    result = tags_cli("load", str(tmp_path), env=server.env(), timeout=120)
    assert result.returncode == 1
    assert "nothing was loaded" in result.stdout and "missing required column(s) ordered_at, status" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
