"""`tags load`, round two (issue 16): all or nothing whatever dies, the same folder twice, a dead
warehouse, mass exact duplicates, a byte-order mark, a load during a refresh.

One server for the module with a small demo (300 customers) whose staging is built; after a scenario
that loads rows, staging is built again (`dbt build --select staging`, whose row_count_equals tests
compare every base table with raw as staging sees it) so record() can check the balance.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestration.dagster import dbt_runner
from orchestration.quality import accounting
from orchestration.warehouse import demo, loader, warehouse
from tests.conftest import TAGS_COMMAND, free_port, tags_cli
from tests.integration.known import AS_OF
from tests.reliability.conftest import assert_clear_error, read_until, record

EVENTS_HEADER = "customer_id,event_at,event_type,channel,campaign_id,product_category,message_id\n"
ITEMS_HEADER = "order_id,product_id,quantity,unit_price\n"


def restage(test: bool = False) -> None:
    """Build staging from raw as it is now (test: and run its tests, whose row_count_equals fail if a base
    table and raw as staging sees it disagree in rows)."""
    dbt_runner.run("build" if test else "run", AS_OF, select=["staging", "identity"])  # staging reads the stitching


@pytest.fixture(scope="module")
def base(client):
    demo.generate(client, 300, 42, AS_OF)
    restage()
    ids = client.query("SELECT (SELECT min(customer_id) FROM raw.customers), (SELECT min(product_id) FROM raw.products), "
                       "(SELECT min(order_id) FROM raw.orders)").result_rows[0]
    return {"customer": ids[0], "product": ids[1], "order": ids[2]}


def seen(client) -> dict[str, tuple[int, int]]:
    """Per raw table: its rows as the balance counts them, and staged + rejected rows."""
    return {a.table: (a.raw, a.staged + a.rejected) for a in accounting.accounts(client)}


def raw_rows(client, table: str, where: str = "1") -> int:
    return int(client.command(f"SELECT count() FROM raw.{table} WHERE {where}"))


def scratch_tables(client) -> list[str]:
    return [r[0] for r in client.query("SELECT name FROM system.tables WHERE database = 'raw_load'").result_rows]


def big_folder(client, folder: Path, prefix: str, events: int = 50_000, items: int = 300_000) -> dict[str, int]:
    """Customers, events, order items and orders under new ids, written as Parquet by ClickHouse: big
    enough that appending order_items takes a while after the line about raw.events."""
    folder.mkdir()
    queries = {
        "customers": f"SELECT concat('{prefix}C', toString(number)) AS customer_id, toDateTime('2026-01-01 00:00:00') + number AS signup_at, "
                     "'DE' AS country, 'Berlin' AS city, 'organic' AS source_channel, 'none' AS member_tier, "
                     "CAST(NULL AS Nullable(UInt16)) AS birth_year, 'consumer' AS segment, CAST(NULL AS Nullable(String)) AS email, "
                     "CAST(NULL AS Nullable(String)) AS phone FROM numbers(100)",
        "events": f"SELECT concat('{prefix}C', toString(number % 100)) AS customer_id, toDateTime('2026-06-01 00:00:00') + number AS event_at, "
                  "'page_view' AS event_type, 'web' AS channel, CAST(NULL AS Nullable(String)) AS campaign_id, "
                  f"CAST(NULL AS Nullable(String)) AS product_category, CAST(NULL AS Nullable(String)) AS message_id FROM numbers({events})",
        "order_items": f"SELECT concat('{prefix}O', toString(number % 1000)) AS order_id, concat('{prefix}P', toString(number % 7)) AS product_id, "
                       f"toInt32(1 + number % 3) AS quantity, toDecimal64(number / 100, 2) AS unit_price FROM numbers({items})",
        "orders": f"SELECT concat('{prefix}O', toString(number)) AS order_id, concat('{prefix}C', toString(number % 100)) AS customer_id, "
                  "toDateTime('2026-06-01 00:00:00') + number AS ordered_at, 'paid' AS status, toDecimal64(10, 2) AS amount, "
                  "CAST(NULL AS Nullable(DateTime)) AS paid_at, CAST(NULL AS Nullable(DateTime)) AS shipped_at, "
                  "CAST(NULL AS Nullable(DateTime)) AS delivered_at, CAST(NULL AS Nullable(DateTime)) AS completed_at, "
                  "'web' AS channel FROM numbers(1000)",
    }
    for table, sql in queries.items():
        (folder / f"{table}.parquet").write_bytes(client.raw_query(sql, fmt="Parquet"))
    return {"customers": 100, "events": events, "order_items": items, "orders": 1000}


def start_load(folder: Path) -> subprocess.Popen:
    return subprocess.Popen([TAGS_COMMAND, "load", str(folder)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


def rows_by_load(client, prefix: str) -> dict[str, dict[str, int]]:
    """Per load id, the rows of each table written under this prefix's ids."""
    keys = {"customers": "customer_id", "events": "customer_id", "order_items": "order_id", "orders": "order_id"}
    found: dict[str, dict[str, int]] = {}
    for table, key in keys.items():
        for load_id, rows in client.query(f"SELECT _load_id, count() FROM raw.{table} WHERE startsWith({key}, '{prefix}') "
                                          "GROUP BY _load_id").result_rows:
            found.setdefault(load_id, {})[table] = rows
    return found


def load_until_events_appended(client, tmp_path: Path, prefix: str):
    """A big folder being loaded by `tags load`, read up to its line that raw.events was appended:
    (folder, rows expected per table, what staging saw before, the process, its lines so far)."""
    folder = tmp_path / "big"
    expected = big_folder(client, folder, prefix)
    before = seen(client)
    process = start_load(folder)
    lines = read_until(process, "rows to raw.events")
    assert "appended" in lines[-1], "".join(lines)
    return folder, expected, before, process, lines


def test_a_load_killed_after_appending_events_shows_nothing_and_the_next_load_cleans_up(base, client, tmp_path):
    folder, expected, before, process, lines = load_until_events_appended(client, tmp_path, "KA")
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL and not any(line.startswith("loaded") for line in lines), "".join(lines)
    # the events did reach raw, with scratch tables beside them; nobody sees them
    (killed,) = rows_by_load(client, "KA")
    assert raw_rows(client, "events", f"_load_id = '{killed}'") == expected["events"]
    assert scratch_tables(client)
    assert seen(client) == before
    restage(test=True)  # staging leaves them out: its row_count_equals tests and the balance agree
    assert seen(client) == before

    said = []
    assert loader.load(client, folder, progress=said.append) == expected
    assert [line for line in said if line.startswith(f"cleaned up the unfinished load {killed}")], said
    assert [line for line in said if line.startswith("dropped") and "scratch table" in line], said
    loads = rows_by_load(client, "KA")
    assert list(loads.values()) == [expected] and killed not in loads, loads
    assert scratch_tables(client) == []
    restage()
    after = seen(client)
    assert all(after[t][0] == before[t][0] + expected.get(t, 0) for t in before), (before, after)
    record(client, "load", "`tags load` SIGKILLed after appending raw.events (50,000 events; 300,000 items to go), "
           "then the same folder loaded again", 2, "the killed load's rows invisible to staging and the balance; "
           "the next load removes them and the scratch tables (logged) and loads the folder once")


def test_a_warehouse_killed_mid_load_fails_in_one_line_and_the_next_load_cleans_up(base, server, client, tmp_path):
    folder, expected, before, process, lines = load_until_events_appended(client, tmp_path, "KB")
    os.kill(warehouse.status(server.root).pid, signal.SIGKILL)
    output = "".join(lines) + process.communicate(timeout=300)[0]
    error = assert_clear_error(subprocess.CompletedProcess([], process.returncode, output, ""),
                               f"127.0.0.1:{server.http_port}", "nothing was loaded")
    assert [line for line in error.splitlines() if "error" in line.lower() or "warning" in line.lower()] == \
        [next(line for line in error.splitlines() if line.startswith("error:"))], error
    warehouse.start(server.root, server.http_port, server.tcp_port)
    assert seen(client) == before

    said = []
    assert loader.load(client, folder, progress=said.append) == expected
    assert [line for line in said if line.startswith("cleaned up the unfinished load")], said
    assert list(rows_by_load(client, "KB").values()) == [expected]
    assert scratch_tables(client) == []
    restage()
    after = seen(client)
    assert all(after[t][0] == before[t][0] + expected.get(t, 0) for t in before), (before, after)
    record(client, "load", "warehouse SIGKILLed after `tags load` appended raw.events, restarted, folder loaded again", 2,
           "one `error:` line naming the server, no traceback; nothing visible; the next load cleans up and loads once")


def small_folder(folder: Path, ids: dict[str, str], tag: str) -> Path:
    folder.mkdir()
    c, p, o = ids["customer"], ids["product"], ids["order"]
    (folder / "events.csv").write_text(EVENTS_HEADER + "".join(
        f"{c},2026-11-0{n} 10:00:00,page_view,web,,{tag},\n" for n in range(1, 4)))
    (folder / "order_items.csv").write_text(ITEMS_HEADER + f"{o},{p},1,9.99\n{o},{p},1,9.99\n")  # two lines alike: real
    return folder


def test_the_same_folder_loaded_twice_is_recognised(base, client, tmp_path):
    folder = small_folder(tmp_path / "first", base, "twice")
    said = []
    assert loader.load(client, folder, progress=said.append) == {"events": 3, "order_items": 2}
    assert not [line for line in said if "warning" in line], said  # two order lines alike are no mass duplicate
    counts = {t: raw_rows(client, t) for t in ("events", "order_items")}

    again = tags_cli("load", str(folder))
    output = " ".join((again.stdout + again.stderr).split())
    assert again.returncode == 0 and "already loaded" in output and "events.csv" in output, output
    assert {t: raw_rows(client, t) for t in ("events", "order_items")} == counts

    # the same events file beside a new file: refused, naming it; nothing of the folder is loaded
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "events.csv").write_bytes((folder / "events.csv").read_bytes())
    (mixed / "customers.csv").write_text("customer_id,signup_at,country,city,source_channel,member_tier,birth_year,"
                                         "segment,email,phone\nTWICE1,2026-01-05 10:00:00,DE,Berlin,organic,none,,consumer,,\n")
    with pytest.raises(loader.LoadError, match=r"events\.csv: already loaded by load-\w+ on .*: raw\.events has no key, "
                       r"so its rows would count twice\. .* pass --again") as refused:
        loader.load(client, mixed)
    assert not isinstance(refused.value, loader.AlreadyLoaded)
    assert {t: raw_rows(client, t) for t in ("events", "order_items")} == counts
    assert raw_rows(client, "customers", "customer_id = 'TWICE1'") == 0
    # asked for, it is loaded again
    assert loader.load(client, mixed, again=True) == {"customers": 1, "events": 3}
    assert raw_rows(client, "events", "product_category = 'twice'") == 6
    restage()
    record(client, "load", "the same folder loaded twice; one of its files beside a new one", 3,
           "the second load skipped with a message (exit 0); the mixed folder refused naming the file; "
           "`--again` loads it")


def test_mass_exact_duplicates_in_a_table_without_a_key_are_loaded_with_a_warning(base, client, tmp_path):
    c = base["customer"]
    row = f"{c},2026-11-10 10:00:00,page_view,web,,massdup,\n"
    (tmp_path / "events.csv").write_text(EVENTS_HEADER + row * 20_000 + f"{c},2026-11-11 10:00:00,page_view,web,,massdup,\n")
    result = tags_cli("load", str(tmp_path))
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 0, output
    assert "warning:" in output and "events.csv" in output and "raw.events" in output, output
    assert "20,000" in output and c in output and "2026-11-10 10:00:00" in output, output
    assert raw_rows(client, "events", "product_category = 'massdup'") == 20_001  # loaded: they may be real
    restage()
    record(client, "load", "one event row repeated 20,000 times in events.csv", 1,
           "loaded with a warning naming table, file, row and count")


def test_a_csv_with_a_utf8_byte_order_mark_loads(base, client, tmp_path):
    (tmp_path / "customers.csv").write_bytes(
        "\ufeffcustomer_id,signup_at,country,city,source_channel,member_tier,birth_year,segment,email,phone\n"
        "BOM1,2026-01-05 10:00:00,DE,Köln,organic,none,,consumer,,\n".encode())
    assert loader.load(client, tmp_path) == {"customers": 1}
    assert client.query("SELECT city FROM raw.customers WHERE customer_id = 'BOM1'").result_rows == [("Köln",)]
    restage()
    record(client, "load", "a CSV with a UTF-8 byte-order mark", 1, "loaded; its first column found")


HOLD_THE_LOCK = """
import time
from orchestration.warehouse import refresh_lock
with refresh_lock.held("tags refresh"):
    print("holding", flush=True)
    time.sleep(300)
"""


def test_a_load_during_a_refresh_is_refused_and_writes_nothing(base, client, tmp_path):
    folder = small_folder(tmp_path / "during", base, "during")
    before = seen(client)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_THE_LOCK], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        assert_clear_error(tags_cli("load", str(folder)), "nothing was loaded", "another refresh is writing",
                           "tags refresh")
    finally:
        holder.kill()
        holder.wait()
    assert seen(client) == before and raw_rows(client, "events", "product_category = 'during'") == 0
    record(client, "load", "`tags load` while a refresh holds the warehouse's lock", 1,
           "refused at once naming the holder; raw unchanged")


def test_an_unreachable_warehouse_fails_the_load_in_one_line(base, client, tmp_path):
    folder = small_folder(tmp_path / "nowhere", base, "nowhere")
    port = free_port()  # nothing listens there
    started = time.monotonic()
    result = tags_cli("load", str(folder), env={"WAREHOUSE_HTTP_PORT": str(port), "WAREHOUSE_RETRY_SECONDS": "0.1"})
    output = assert_clear_error(result, f"cannot reach the warehouse at http://default@127.0.0.1:{port}")
    assert [line for line in output.splitlines() if "retry" not in line] == [output.splitlines()[-1]], output
    assert output.splitlines()[-1].startswith("error:") and time.monotonic() - started < 60
    record(client, "load", "warehouse unreachable at the start of `tags load`", 4,
           "3 retries, then one `error:` line naming the server")
