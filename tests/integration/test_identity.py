"""Identity stitching on a hand-built graph whose components are known: a long chain, a shared placeholder phone
(the giant-component trap), identifiers typed differently, a component without a customer, and a late edge that
merges two customers on the next run. dbt builds staging and models/identity/ on the embedded warehouse."""

from __future__ import annotations

import datetime as dt
import json
import subprocess

import pytest

from orchestration.dagster import dbt_runner
from orchestration.dagster.project import DBT_EXECUTABLE
from orchestration.settings import PROJECT_DIR
from tests.integration.known import AS_OF, customer, days_ago, load_raw, order

IDENTITY_MODELS = ["+identity_merge_log", "+identity_held_back"]
CHAIN = 40  # customers K0..K39, each seen with the phone of the next: one component 79 identifiers long
TRAP = 15  # customers each given the placeholder phone: over the limit of 10 links (var identity_max_links)
TRAP_PHONE = "+4930000000000"


def edge(id_, id_type, other_id, other_id_type, days=10):
    return [id_, id_type, other_id, other_id_type, days_ago(days)]


def phone(n: int) -> str:
    return f"+49151{n:08d}"


CHAIN_EDGES = [edge(f"K{n}", "customer_id", phone(n), "phone") for n in range(CHAIN)] + [
    edge(f"K{n + 1}", "customer_id", phone(n), "phone") for n in range(CHAIN - 1)]
TRAP_EDGES = [edge(f"T{n}", "customer_id", TRAP_PHONE, "phone") for n in range(TRAP)]
PAIR_EDGES = [
    edge("A1", "customer_id", "Ana@Shop.example ", "email"),  # typed in capitals, with a trailing space
    edge("A2", "customer_id", "ana@shop.example", "email"),
    edge("B1", "customer_id", "U-b", "union_id"),
    edge("B2", "customer_id", "U-b", "union_id"),
    edge("B2", "customer_id", "+49 151 9999 0000", "phone"),  # typed with spaces
    edge("x@nowhere.example", "email", "+4915199990001", "phone"),  # no customer in it
]
BAD_EDGES = [
    edge("A1", "customer_id", "C-fax", "fax"),  # unknown type
    edge("A1", "customer_id", "A1", "customer_id"),  # itself
    edge("Z9", "customer_id", "ana@shop.example", "email"),  # a customer raw does not have
    edge("B1", "customer_id", "+49151", "phone"),  # too short for E.164
    edge("A1", "customer_id", "B1", "customer_id", days=-2),  # seen after as_of: must not merge A and B
]
EDGE_COLUMNS = ["id", "id_type", "other_id", "other_id_type", "seen_at"]
LATE_EDGE = edge("A2", "customer_id", "+4915199990000", "phone", days=1)  # A2 and B2 share a phone: one customer
# a new identifier joining two customers nothing linked before
BRIDGE_EDGES = [edge("LONE", "customer_id", "U-bridge", "union_id", days=1),
                edge("LONE2", "customer_id", "U-bridge", "union_id", days=1)]
CUSTOMERS = [*(f"K{n}" for n in range(CHAIN)), *(f"T{n}" for n in range(TRAP)), "A1", "A2", "B1", "B2", "LONE", "LONE2", "LONE3"]
# A0 signs up after as_of: staging rejects it, so though its edge puts it beside A1 and A2 it is not their key
UNSTAGED = "A0"
UNSTAGED_EDGE = edge(UNSTAGED, "customer_id", "ana@shop.example", "email")
# the same person's orders from both accounts, and B2's
ORDERS = [order("O1", "A1", days_ago(5)), order("O2", "A2", days_ago(3), amount="50.00"), order("O3", "B2", days_ago(4))]


def build() -> None:
    dbt_runner.run("build", AS_OF, select=IDENTITY_MODELS)


def stitched(client) -> set[frozenset[str]]:
    """The customers grouped by stitched customer."""
    rows = client.query("SELECT groupArray(customer_id) FROM identity.stitched_customers "
                        "GROUP BY stitched_customer_id").result_rows
    return {frozenset(members) for (members,) in rows}


@pytest.fixture(scope="module")
def graph(client):
    unstaged = customer(UNSTAGED)
    unstaged[1] = days_ago(-3)
    load_raw(client, customers=[customer(c) for c in CUSTOMERS] + [unstaged], orders=ORDERS,
             identity_edges=CHAIN_EDGES + TRAP_EDGES + PAIR_EDGES + BAD_EDGES + [UNSTAGED_EDGE])
    build()


def test_components_are_the_known_ones(graph, client):
    assert stitched(client) == {
        frozenset(f"K{n}" for n in range(CHAIN)),
        *(frozenset([f"T{n}"]) for n in range(TRAP)),
        frozenset(["A1", "A2"]), frozenset(["B1", "B2"]),
        frozenset(["LONE"]), frozenset(["LONE2"]), frozenset(["LONE3"]),
    }


def test_the_stitched_key_is_the_least_customer_id_of_its_component(graph, client):
    keys = dict(client.query("SELECT customer_id, stitched_customer_id FROM identity.stitched_customers").result_rows)
    assert keys["K39"] == "K0" and keys["A2"] == "A1" and keys["B2"] == "B1" and keys["LONE"] == "LONE"
    counts = dict(client.query("SELECT customer_id, customer_ids FROM identity.stitched_customers").result_rows)
    assert counts["K7"] == CHAIN and counts["A1"] == 2 and counts["LONE"] == counts["LONE2"] == 1


def test_an_identifier_linked_to_too_many_is_held_back_and_reported(graph, client):
    assert client.query("SELECT id_type, id, links FROM identity.identity_held_back").result_rows == [
        ("phone", TRAP_PHONE, TRAP)]
    assert client.command("SELECT held_back FROM identity.identity_components WHERE id = %(id)s",
                          parameters={"id": TRAP_PHONE}) == 1


def test_a_component_without_a_customer_has_no_stitched_customer(graph, client):
    rows = client.query("SELECT id, component = (SELECT component FROM identity.identity_components "
                        "WHERE id = 'x@nowhere.example') FROM identity.identity_components "
                        "WHERE id IN ('x@nowhere.example', '+4915199990001') ORDER BY id").result_rows
    assert rows == [("+4915199990001", True), ("x@nowhere.example", True)]
    assert client.command("SELECT count() FROM identity.identity_components WHERE id_type = 'customer_id' AND component = "
                          "(SELECT component FROM identity.identity_components WHERE id = 'x@nowhere.example')") == 0


def test_a_customer_staging_rejects_is_never_the_stitched_key(graph, client):
    """A0 is in A1's component (its edge is valid) but signed up after as_of: the key is A1, the least staged id."""
    assert client.command("SELECT count() FROM identity.identity_components WHERE id = %(id)s",
                          parameters={"id": UNSTAGED}) == 1
    keys = dict(client.query("SELECT customer_id, stitched_customer_id FROM identity.stitched_customers").result_rows)
    assert UNSTAGED not in keys and keys["A2"] == "A1"


def test_bad_edges_are_rejected_with_their_reason_and_merge_nothing(graph, client):
    reasons = client.query("SELECT other_id, reject_reason FROM staging.base_identity_edges WHERE reject_reason != '' "
                           "ORDER BY other_id").result_rows
    assert reasons == [("+49151", "phone is not E.164"), ("A1", "links an identifier to itself"),
                       ("B1", "seen_at is after as_of"), ("C-fax", "unknown other_id_type"),
                       ("ana@shop.example", "unknown customer_id")]


def stitching(client) -> str:
    return client.command("SELECT any(stitching) FROM identity.identity_components")


def test_the_first_build_labels_every_link(graph, client):
    assert stitching(client) == "rebuilt: no earlier components"


def test_staging_features_and_tags_count_a_stitched_customer_once(graph, client):
    """Orders from A1's and A2's accounts are one customer's: staged under A1 with their source account, one row
    of features and tags for A1 and none for A2."""
    dbt_runner.run("build", AS_OF, select=["+customer_features", "+tag_vip"])
    orders = client.query("SELECT order_id, customer_id, source_customer_id FROM staging.stg_orders "
                          "ORDER BY order_id").result_rows
    assert orders == [("O1", "A1", "A1"), ("O2", "A1", "A2"), ("O3", "B1", "B2")]
    features = dict(client.query("SELECT customer_id, (orders_total, spend_total) FROM features.customer_features "
                                 "WHERE customer_id IN ('A1', 'A2', 'B1', 'B2')").result_rows)
    assert features == {"A1": (2, 150.0), "B1": (1, 100.0)}
    assert client.command("SELECT count() FROM staging.stg_customers WHERE customer_id IN ('A2', 'B2', 'K1')") == 0
    assert client.command("SELECT count() FROM staging.stg_customer_accounts WHERE customer_id IN ('A2', 'B2', 'K1')") == 3
    assert client.command("SELECT count() FROM tag_models.tag_vip WHERE customer_id IN ('A2', 'B2')") == 0


def test_a_late_edge_extends_the_components_and_a_full_rebuild_agrees(graph, client):
    client.insert("raw.identity_edges", [LATE_EDGE, *BRIDGE_EDGES], column_names=EDGE_COLUMNS)
    build()
    assert stitching(client) == "extended"  # only the new edges' links were labelled
    merged = stitched(client)
    assert frozenset(["A1", "A2", "B1", "B2"]) in merged
    assert frozenset(["LONE", "LONE2"]) in merged and frozenset(["LONE3"]) in merged
    keys = dict(client.query("SELECT customer_id, stitched_customer_id FROM identity.stitched_customers").result_rows)
    assert {keys[c] for c in ("A1", "A2", "B1", "B2")} == {"A1"}
    dbt_runner.run("build --full-refresh", AS_OF, select=IDENTITY_MODELS)
    assert stitching(client) == "rebuilt: a full refresh"
    assert stitched(client) == merged


def test_an_identifier_crossing_the_limit_is_held_back_and_unmerges_what_it_joined(graph, client):
    shared = "+4915199990000"  # B2's phone, and A2's since the late edge: 2 links, 9 more make 11
    client.insert("raw.identity_edges", [edge(f"T{n}", "customer_id", shared, "phone", days=1) for n in range(9)],
                  column_names=EDGE_COLUMNS)
    build()
    assert stitching(client) == "rebuilt: the identifiers held back changed (one crossed identity_max_links, or it was changed)"
    assert {frozenset(["A1", "A2"]), frozenset(["B1", "B2"]), frozenset(["T0"])} <= stitched(client)
    assert (shared, 11) in client.query("SELECT id, links FROM identity.identity_held_back").result_rows


def test_an_edge_accepted_since_by_a_later_as_of_rebuilds(graph, client):
    dbt_runner.run("build", AS_OF + dt.timedelta(days=3), select=IDENTITY_MODELS)
    assert stitching(client) == "rebuilt: edges of the last build changed (rejected or accepted since, or removed)"
    # the edge A1-B1 seen 2 days after AS_OF; A0, signed up by then, is staged and now their key
    assert frozenset([UNSTAGED, "A1", "A2", "B1", "B2"]) in stitched(client)
    assert client.command("SELECT stitched_customer_id FROM identity.stitched_customers WHERE customer_id = 'B2'") == UNSTAGED


def test_the_merge_log_follows_every_customer_to_its_stitched_customer(graph, client):
    """Replaying the log's changes in order gives each customer's stitched customer now; the late edge's merge
    (B1 and B2 into A1) and the held-back phone's unmerge (B1, B2 on their own again) are both in it."""
    log = client.query("SELECT customer_id, previous_stitched_customer_id, stitched_customer_id "
                       "FROM identity.identity_merge_log ORDER BY logged_at").result_rows
    followed: dict[str, str] = {}
    for customer_id, previous, current in log:
        assert followed.get(customer_id, customer_id) == previous
        followed[customer_id] = current
    now = dict(client.query("SELECT customer_id, stitched_customer_id FROM identity.stitched_customers").result_rows)
    assert {c: followed.get(c, c) for c in now} == now
    assert ("B2", "B1", "A1") in log and ("B2", "A1", "B1") in log


def test_a_chain_longer_than_the_rounds_allow_fails_the_build_and_says_what_to_raise(graph, tmp_path):
    run = subprocess.run(
        [DBT_EXECUTABLE, "run", "--full-refresh", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
         "--target-path", str(tmp_path), "--select", "identity_components",
         "--vars", json.dumps({"as_of": AS_OF.isoformat(), "identity_max_rounds": 2})],
        capture_output=True, text=True, timeout=600)
    assert run.returncode != 0
    assert "did not settle in 2 rounds (var identity_max_rounds" in run.stdout
