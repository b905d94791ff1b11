"""Bad input, tried systematically: catalog rows, audience expressions, raw files, raw rows, as_of.

Each gets a clear error naming what is wrong and where, or a reject with its reason; none crashes
with a traceback; none changes the published tags. The generated cases come from hypothesis.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from orchestration import cli
from orchestration.audiences import audience_expression, audiences
from orchestration.catalog import catalog, catalog_sync, validation
from orchestration.warehouse import contract, loader
from tests.conftest import published_state, tags_cli
from tests.integration.known import AS_OF
from tests.reliability.conftest import assert_clear_error, record

DAY_2 = AS_OF + dt.timedelta(days=1)
CATALOG_TEXT = catalog.CATALOG_FILE.read_text()
ROWS = catalog.load()
TAG_TYPES = audiences.tag_types(ROWS)
EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TRIED: Counter[str] = Counter()  # generated examples per kind of input, for the summary table


@pytest.fixture(scope="module", autouse=True)
def summary_of_generated_inputs():
    yield
    for what, outcome in GENERATED.items():
        if TRIED[what]:
            record(None, "bad input", what, TRIED[what], outcome)


GENERATED = {
    "catalog rows: a defect in each column (hypothesis)": "every one named by file, line, tag and column",
    "catalog cells: any text (hypothesis)": "errors or a valid catalog; never a crash",
    "catalog rules: subqueries, table functions, semicolons, comments, clocks, other tables (hypothesis)":
        "refused: a rule is one expression over customer_features",
    "audience expressions: any text and injection fragments (hypothesis)": "compiled or refused with a column; never a crash",
    "raw cells: any text in typed order columns (hypothesis)": "loaded as the contract type or refused whole",
}

# --- the catalog: every kind of defect in every column -------------------------------------------

# Rule fragments that read outside the customer's feature row, or are not one expression.
UNBOUNDED_RULES = [
    "orders_180d >= 3; DROP TABLE raw.orders", "orders_180d >= (SELECT count() FROM raw.orders)",
    "customer_id IN (SELECT customer_id FROM raw.customers)", "length(file('/etc/passwd')) > 0",
    "length(url('http://127.0.0.1:8123/?query=select+1', 'CSV', 'x String')) > 0", "dictGet('d', 'x', 1) = 1",
    "joinGet('j', 'c', 1) = 1", "raw.orders.amount > 0", "customer_features.orders_180d > 1", "orders_180d > 1 -- x",
    "orders_180d > 1 /* x */", "now() > toDateTime(0)", "rand() > 1000", "exists(SELECT 1)",
    "orders_180d > 1 SETTINGS max_threads = 1", "orders_180d > 1 FORMAT JSON", "orders_180d > 1 UNION ALL SELECT 1",
    "email != ''", "orders_180d > 1 AS x", "(SELECT 1) = 1", "remote('127.0.0.1', system.one) = 1",
    "hasColumnInTable('raw', 'customers', 'email')", "orders_180d >", "orders_180d >= {missing}",
]
DEFECTS = {
    "tag_key": ["", "VIP", "1vip", "vip key", "and", "churn_risk", "vip-x"],
    "tag_name": ["", "VIP", "value-", "value-x  y", "foo-bar", "value-" + "x" * 20, "value-VIP diamond"],
    "category": ["", "spam", "VALUE"],
    "method": ["", "magic", "RULE", "sql"],
    "value_type": ["", "boolean", "label", "number"],
    "rule": UNBOUNDED_RULES,
    "params": ["", "min_spend_365d=abc;min_single_order=5000", "min_spend_365d=1;min_spend_365d=2;min_single_order=1",
               "min_spend_365d=20000", "min_spend_365d=20000;min_single_order=5000;unused=1",
               "min_spend_365d='1;DROP';min_single_order=5000", "min_spend_365d"],
    "status": ["", "live", "ACTIVE"],
    "coverage_min": ["", "-0.1", "abc", "2", "0.5"],
    "coverage_max": ["", "1.5", "x", "0.0001"],
    "blocking_checks": ["nonsense", "coverage;nonsense"],
    "updated_at": ["", "yesterday", "2026-13-45"],
}
# A defect may be reported on a neighbouring column (a type mismatch on value_type, a swapped range on coverage_max).
REPORTED_ON = {"value_type": {"value_type", "rule"}, "coverage_min": {"coverage_min", "coverage_max"},
               "coverage_max": {"coverage_min", "coverage_max"}, "method": {"method", "rule", "value_type"},
               "params": {"params", "rule"}, "rule": {"rule", "params", "value_type"}}


def catalog_with(path: Path, column: str, value: str, tag_key: str = "vip") -> Path:
    """The real catalog with one cell of one row replaced."""
    lines = list(csv.reader(io.StringIO(CATALOG_TEXT)))
    header = lines[0]
    for cells in lines[1:]:
        if cells and cells[0] == tag_key:
            cells[header.index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(lines)
    path.write_text(out.getvalue())
    return path


@EXAMPLES
@given(defect=st.sampled_from([(c, v) for c, values in DEFECTS.items() for v in values]))
def test_every_catalog_defect_is_named_by_line_tag_and_column(tmp_path_factory, defect):
    TRIED["catalog rows: a defect in each column (hypothesis)"] += 1
    column, value = defect
    path = catalog_with(tmp_path_factory.mktemp("catalog") / "tag_catalog.csv", column, value)
    errors = catalog_sync.validate_all(catalog.load(path))
    assert errors, (column, value)
    assert any(e.column in REPORTED_ON.get(column, {column}) for e in errors), (column, value, [str(e) for e in errors])
    assert all(str(e).startswith("tag_catalog.csv line ") for e in errors if e.file == "tag_catalog.csv")


@EXAMPLES
@given(column=st.sampled_from(catalog.COLUMNS[1:]), value=st.text(max_size=60))
def test_any_text_in_any_catalog_cell_gives_errors_or_a_valid_catalog_never_a_crash(tmp_path_factory, column, value):
    TRIED["catalog cells: any text (hypothesis)"] += 1
    path = catalog_with(tmp_path_factory.mktemp("catalog") / "tag_catalog.csv", column, value.replace("\x00", ""))
    try:
        rows = catalog.load(path)
    except catalog.CatalogFileError as error:  # the file as a whole (e.g. a cell that breaks the CSV)
        assert "tag_catalog.csv" in str(error)
        return
    errors = catalog_sync.validate_all(rows)
    assert all(isinstance(e, catalog.CatalogError) and str(e) for e in errors)


@EXAMPLES
@given(fragment=st.sampled_from(UNBOUNDED_RULES), glue=st.sampled_from(["{f}", "orders_180d >= 1 AND ({f})",
                                                                       "if({f}, 1, 0) = 1", "NOT ({f})"]),
       upper=st.booleans())
def test_a_rule_is_one_expression_over_customer_features(tmp_path_factory, fragment, glue, upper):
    TRIED["catalog rules: subqueries, table functions, semicolons, comments, clocks, other tables (hypothesis)"] += 1
    rule = glue.format(f=fragment.upper() if upper and "{" not in fragment else fragment)
    path = catalog_with(tmp_path_factory.mktemp("catalog") / "tag_catalog.csv", "rule", rule, tag_key="vip_diamond")
    vip_diamond = next(r for r in catalog.load(path) if r.tag_key == "vip_diamond")
    errors = validation.validate([vip_diamond])
    assert any(e.column in ("rule", "params") for e in errors), rule


# --- audience expressions ------------------------------------------------------------------------

INJECTIONS = ["vip) or 1=1 --", "vip; DROP TABLE tags.customer_tags", "vip or (SELECT 1)", "file('/etc/passwd')",
              "url('http://127.0.0.1/')", "vip and country = 'DE' or 1=1", "vip /* x */", "vip -- x",
              "country = 'DE'' OR 1=1 --'", "country in (select country from raw.customers)", "vip union all select 1",
              "VIP", "vip and", "", "   ", "country = DE", "value_score >= '80'", "vip = 1", "nosuchtag"]


@EXAMPLES
@given(expression=st.one_of(st.sampled_from(INJECTIONS), st.text(max_size=80),
                            st.text(alphabet="vipandortchurnsk_()'=;,-* 0123456789", max_size=60)))
def test_any_audience_expression_compiles_or_is_refused_with_a_position(expression):
    TRIED["audience expressions: any text and injection fragments (hypothesis)"] += 1
    try:
        compiled = audience_expression.compile_expression(expression, TAG_TYPES)
    except audience_expression.ExpressionError as error:
        assert "column" in str(error)
        return
    # what compiles names only catalog tags; the text the user wrote enters only as quoted literals
    assert ";" not in compiled.sql.replace("';'", "")


# --- the warehouse side: raw files, raw rows, the CLI ---------------------------------------------

@pytest.fixture(scope="module")
def ids(demo_night, client):
    """A known customer, order and product of the demo data."""
    customer, order = client.query("SELECT customer_id, order_id FROM raw.orders LIMIT 1").result_rows[0]
    product = client.query("SELECT product_id FROM raw.products LIMIT 1").result_rows[0][0]
    return {"customer": customer, "order": order, "product": product}


def test_injected_audience_expressions_never_reach_the_warehouse(demo_night, client):
    before = published_state(client)
    for expression in INJECTIONS[:11]:
        assert_clear_error(tags_cli("audience", "size", expression), "column")
    client.command("SYSTEM FLUSH LOGS")
    reached = client.query("SELECT count() FROM system.query_log WHERE query ILIKE '%1=1%' OR query ILIKE '%/etc/passwd%' "
                           "OR query ILIKE '%DROP TABLE tags%'").result_rows[0][0]
    assert reached == 0
    assert published_state(client) == before
    record(client, "bad input", "audience expressions through `tags audience size`: injections, subqueries, "
           "file()/url(), comments", 11, "refused with column and caret; nothing reached the warehouse")


ORDERS_HEADER = "order_id,customer_id,ordered_at,status,amount,paid_at,shipped_at,delivered_at,completed_at,channel\n"
ITEMS_HEADER = "order_id,product_id,quantity,unit_price\n"


def bad_files(ids) -> list[tuple[str, bytes, str]]:
    """(file, content, what the error must name) for files that must be refused whole."""
    order = f"X1,{ids['customer']},2026-11-20 10:00:00,paid,10.00,,,,,web\n"
    return [
        ("orders.csv", b"order_id,customer_id\nX,Y\n", "missing required column(s) ordered_at, status"),
        ("orders.csv", (ORDERS_HEADER + order.replace("2026-11-20 10:00:00", "yesterday")).encode(), "ordered_at"),
        ("orders.csv", (ORDERS_HEADER + order.replace("10.00", "ten")).encode(), "amount"),
        ("orders.csv", (ORDERS_HEADER + order.replace("10.00", "1" * 30)).encode(), "amount"),
        ("orders.csv", (ORDERS_HEADER + order.replace("2026-11-20", "1900-01-01")).encode(),
         "column ordered_at: '1900-01-01 10:00:00' is not of type DateTime (it holds 1970-01-01 to 2106-02-07)"),
        ("order_items.csv", (ITEMS_HEADER + f"X1,{ids['product']},1.5,2.00\n").encode(), "quantity"),
        ("order_items.csv", (ITEMS_HEADER + f"X1,{ids['product']},99999999999,2.00\n").encode(), "quantity"),
        ("consents.csv", f"customer_id,channel,granted,updated_at\n{ids['customer']},email,maybe,2026-11-20\n".encode(),
         "granted"),
        ("customers.csv", "customer_id,signup_at,country,city,source_channel,member_tier,birth_year,segment,email,phone\n"
                          "L9,2026-01-05,DE,Zürich,organic,none,,consumer,,\n".encode("latin-1"), "not UTF-8 text (line 2)"),
        ("orders.csv", b"", "the file is empty"),
        ("orders.csv", ORDERS_HEADER.encode(), "no rows"),
        ("orders.parquet", b"PAR1 not really", "not a readable Parquet file"),
        ("shoppers.csv", b"customer_id\nX\n", "no contract table is named 'shoppers'"),
    ]


def raw_counts(client) -> dict[str, int]:
    return {t: int(client.command(f"SELECT count() FROM raw.{t}")) for t in contract.raw_tables()}


def test_malformed_raw_files_are_refused_whole_naming_file_and_column(demo_night, client, ids, tmp_path):
    before, published = raw_counts(client), published_state(client)
    cases = bad_files(ids)
    for number, (name, content, message) in enumerate(cases):
        folder = tmp_path / str(number)
        folder.mkdir()
        (folder / "customers.csv").write_text(  # a good file beside the bad one: all or nothing
            "customer_id,signup_at,country,city,source_channel,member_tier,birth_year,segment,email,phone\n"
            "L8,2026-01-05 10:00:00,DE,Berlin,organic,none,,consumer,,\n") if name != "customers.csv" else None
        (folder / name).write_bytes(content)
        with pytest.raises(loader.LoadError) as error:
            loader.load(client, folder)
        assert name in str(error.value) and message in str(error.value), (name, message, str(error.value))
        assert raw_counts(client) == before, name
    # a Parquet file with a column of the wrong type, through the command line
    folder = tmp_path / "parquet"
    folder.mkdir()
    pq.write_table(pa.table({"order_id": ["X"], "product_id": [ids["product"]], "quantity": ["many"],
                             "unit_price": pa.array([1.0])}), folder / "order_items.parquet")
    assert_clear_error(tags_cli("load", str(folder)), "nothing was loaded", "order_items.parquet", "quantity")
    pq.write_table(pa.table({"order_id": ["X"], "product_id": [ids["product"]], "quantity": pa.array([2 ** 40]),
                             "unit_price": pa.array([1.0])}), folder / "order_items.parquet")
    assert_clear_error(tags_cli("load", str(folder)), "order_items.parquet", "row 1, column quantity: 1099511627776 is "
                       "outside what Int32 holds")  # ClickHouse alone would wrap it around
    assert raw_counts(client) == before and published_state(client) == published
    assert client.command("SELECT count() FROM system.tables WHERE database = 'raw_load'") == 0
    record(client, "bad input", "raw files: missing columns, wrong types, integer, decimal and date overflow, bad encoding, empty, not Parquet",
           len(cases) + 2, "refused whole naming file, row and column; raw unchanged")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cell=st.text(max_size=40), column=st.sampled_from(["ordered_at", "amount", "status", "paid_at"]))
def test_any_text_in_a_raw_cell_loads_or_is_refused_whole(demo_night, client, ids, tmp_path_factory, cell, column):
    TRIED["raw cells: any text in typed order columns (hypothesis)"] += 1
    before = raw_counts(client)
    values = {"order_id": "HYP", "customer_id": ids["customer"], "ordered_at": "2026-11-20 10:00:00", "status": "paid",
              "amount": "1.00", "paid_at": "", "shipped_at": "", "delivered_at": "", "completed_at": "", "channel": "web"}
    values[column] = cell
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([list(values), list(values.values())])
    folder = tmp_path_factory.mktemp("hyp")
    (folder / "orders.csv").write_text(out.getvalue())
    try:
        appended = loader.load(client, folder)
    except loader.LoadError as error:
        assert "orders.csv" in str(error)
        assert raw_counts(client) == before
        return
    # it parsed as the contract type: it is in raw now, and staging will stage or reject it
    assert appended["orders"] == raw_counts(client)["orders"] - before["orders"] >= 1
    client.command("ALTER TABLE raw.orders DELETE WHERE order_id = 'HYP'", settings={"mutations_sync": 1})


def test_bad_raw_rows_are_rejected_with_their_reason_and_every_row_is_accounted_for(demo_night, client, ids, tmp_path):
    c, p = ids["customer"], ids["product"]
    at = "2026-11-22 10:00:00"
    (tmp_path / "orders.csv").write_text(ORDERS_HEADER + "".join([
        f"BAD-O1,{c},{at},completed,,,,,,web\n",
        f"BAD-O2,{c},{at},completed,-5.00,,,,,web\n",
        f"BAD-O3,{c},2030-01-01 00:00:00,paid,5.00,,,,,web\n",
        f"BAD-O4,NOBODY,{at},paid,5.00,,,,,web\n",
        f"BAD-O5,{c},{at},lost,5.00,,,,,web\n",
        f"BAD-O6,{c},{at},paid,5.00,{at},,,,web\n",
        f"BAD-O6,{c},{at},paid,5.00,{at},,,,web\n",  # an exact duplicate: one version wins
    ]))
    (tmp_path / "order_items.csv").write_text(ITEMS_HEADER + "".join([
        f"BAD-O6,{p},0,10.00\n", f"NO-ORDER,{p},1,10.00\n", "BAD-O6,NO-PRODUCT,1,10.00\n", f"BAD-O6,{p},1,\n",
        f"BAD-O6,{p},1,-1.00\n"]))
    (tmp_path / "events.csv").write_text(
        "customer_id,event_at,event_type,channel,campaign_id,product_category,message_id\n"
        f"{c},2030-01-01 00:00:00,page_view,web,,,\nNOBODY,{at},page_view,web,,,\n{c},{at},teleport,web,,,\n"
        f"{c},{at},message_reply,whatsapp,,,\n")
    (tmp_path / "consents.csv").write_text(f"customer_id,channel,granted,updated_at\n{c},pigeon,true,{at}\n"
                                           f"NOBODY,email,true,{at}\n")
    loader.load(client, tmp_path)
    result = tags_cli("refresh", "--as-of", DAY_2.isoformat())
    assert result.returncode == 0, result.stdout + result.stderr

    def rejects(table: str, key: str, where: str) -> list[tuple]:
        return sorted(client.query(f"SELECT {key}, reject_reason FROM staging.stg_{table}_rejects WHERE {where}").result_rows)

    assert rejects("orders", "order_id", "order_id LIKE 'BAD-%'") == [
        ("BAD-O1", "amount is null"), ("BAD-O2", "amount is negative"), ("BAD-O3", "ordered_at is after as_of"),
        ("BAD-O4", "unknown customer_id"), ("BAD-O5", "unknown status"),
        ("BAD-O6", "superseded by a later version of the same order_id")]
    assert client.query("SELECT count() FROM staging.stg_orders WHERE order_id = 'BAD-O6'").result_rows == [(1,)]
    assert sorted(r for _, r in rejects("order_items", "order_id", "order_id IN ('BAD-O6', 'NO-ORDER')")) == sorted([
        "quantity is not positive", "unknown order_id", "unknown product_id", "unit_price is null", "unit_price is negative"])
    assert sorted(r for _, r in rejects("events", "customer_id", f"customer_id IN ('{c}', 'NOBODY') AND "
                                        "(event_at >= '2030-01-01' OR customer_id = 'NOBODY' OR event_type IN ('teleport', "
                                        "'message_reply') AND message_id IS NULL)")) == sorted([
        "event_at is after as_of", "unknown customer_id", "unknown event_type", "message_id is missing"])
    assert sorted(r for _, r in rejects("consents", "customer_id", "channel = 'pigeon' OR customer_id = 'NOBODY'")) == [
        "unknown channel", "unknown customer_id"]
    record(client, "bad input", "raw rows: null and negative amounts and prices, future timestamps, orphans, "
           "unknown statuses and kinds, exact duplicates", 18, "each rejected with its reason; refresh publishes")


@pytest.mark.parametrize("as_of, message", [("2026-02-30", "as_of 2026-02-30 does not exist: February 2026 has 28 days"),
                                            ("yesterday", "as_of must be a date written YYYY-MM-DD"),
                                            ("2999-01-01", "as_of 2999-01-01 is in the future")])
def test_a_bad_as_of_is_refused_before_anything_runs(demo_night, client, as_of, message):
    before = published_state(client)
    assert_clear_error(tags_cli("refresh", "--as-of", as_of), message)
    assert_clear_error(tags_cli("demo", "--as-of", as_of), message)
    assert published_state(client) == before
    if as_of == "2999-01-01":
        record(client, "bad input", "as_of: impossible date, words, far future (refresh and demo)", 6,
               "one line naming the value; nothing ran")


@pytest.mark.parametrize("args, message", [
    (["--cutoff", "tonight"], "--cutoff: cutoff must be written 'YYYY-MM-DD HH:MM[:SS]', got 'tonight'"),
    (["--cutoff", "2026-11-22 10:00"], "--cutoff: cutoff 2026-11-22 10:00 is not after the start of as_of 2026-11-23"),
    (["--as-of", "2026-11-24", "--cutoff", "2026-11-25 02:00"], "--cutoff is the instant of one run: give one --as-of"),
])
def test_a_bad_cutoff_is_refused_before_anything_runs(demo_night, client, args, message):
    before = published_state(client)
    assert_clear_error(tags_cli("refresh", "--as-of", AS_OF.isoformat(), *args), message)
    assert published_state(client) == before


def test_a_bad_catalog_edit_stops_the_refresh_before_anything_is_built(demo_night, client, tmp_path, monkeypatch):
    before = published_state(client)
    generated = {p: p.read_text() for p in (catalog.PROJECT_DIR / "models" / "tags" / "generated").iterdir()}
    bad = catalog_with(tmp_path / "tag_catalog.csv", "rule", "orders_180d >= (SELECT count() FROM raw.orders)")
    monkeypatch.setattr(catalog, "load", functools.partial(catalog.load, bad))
    result = CliRunner().invoke(cli.app, ["refresh", "--as-of", DAY_2.isoformat()])
    assert result.exit_code == 1 and result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "tag_catalog.csv line 2 (vip), column rule" in result.output and "nothing was built" in result.output
    assert {p: p.read_text() for p in generated} == generated  # the sync did not run either
    assert published_state(client) == before
    record(client, "bad input", "catalog edit with an unbounded rule, through `tags refresh`", 1,
           "refused naming line, tag and column; nothing built or synced")
