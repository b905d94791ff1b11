"""The cluster targets: the configuration dbt resolves for a real cluster, and a real run on two shards.

A real cluster (target `cluster`) cannot run here: the embedded engine has no Keeper, so it refuses
ON CLUSTER and Replicated engines. Its configuration is tested as dbt parses it. The sharding itself
runs for real on two embedded servers on loopback that declare the same <remote_servers> cluster
(target `two_shards`): the nightly job on the first server writes tag_snapshots through a
Distributed table, by customer, onto both; the tags, bitmaps and audience sizes must equal those of
the same data on one server.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from orchestration.catalog import catalog
from orchestration.dagster import refresh
from orchestration.dagster.project import DBT_EXECUTABLE
from orchestration.settings import PROJECT_DIR
from orchestration.warehouse import db, demo
from orchestration.warehouse import shards, warehouse
from tests.conftest import BI_TEST_PASSWORD, environment, free_port
from tests.integration.known import AS_OF

CUSTOMERS = 3_000
CLUSTER = "tags_cluster"


def published(client) -> dict[str, list]:
    """What BI reads, in a form two warehouses can be compared by (run ids differ, so none is read)."""
    return {
        "customer_tags": client.query(
            "SELECT count(), sum(cityHash64(customer_id, tag_key, tag_value)) FROM tags.customer_tags").result_rows,
        "tag_bitmaps": client.query(
            "SELECT tag_key, tag_value, member_count, bitmapCardinality(members), "
            "cityHash64(arraySort(bitmapToArray(members))) FROM tags.tag_bitmaps ORDER BY tag_key, tag_value").result_rows,
        "tag_catalog": client.query(
            "SELECT tag_key, member_count, coverage FROM tags.tag_catalog ORDER BY tag_key").result_rows,
        "audience_sizes": client.query(
            "SELECT audience_key, member_count FROM audiences.audience_sizes ORDER BY audience_key").result_rows,
    }


def nightly_run() -> None:
    outcome = refresh.run(AS_OF, None, catalog.load())
    assert outcome.success and outcome.published, outcome.failures


@pytest.fixture(scope="module")
def single_node(client) -> dict[str, list]:
    demo.generate(client, CUSTOMERS, 42, AS_OF)
    nightly_run()
    return published(client)


@pytest.fixture(scope="module")
def two_shards(single_node, tmp_path_factory):
    """Two servers as the two shards of one cluster; the environment points dbt and the job at the first."""
    ports = [(free_port(), free_port()) for _ in range(2)]
    roots = [tmp_path_factory.mktemp(f"shard{number}") for number in (1, 2)]
    remote_servers = shards.remote_servers_xml(CLUSTER, [tcp for _, tcp in ports])
    try:
        for root, (http, tcp) in zip(roots, ports):
            warehouse.start(root, http, tcp, extra_config=remote_servers)
        (initiator_http, initiator_tcp), (other_http, _) = ports
        with environment(WAREHOUSE_DIR=str(roots[0]), WAREHOUSE_HTTP_PORT=str(initiator_http),
                         WAREHOUSE_TCP_PORT=str(initiator_tcp), DBT_TARGET="two_shards",
                         CLICKHOUSE_CLUSTER=CLUSTER, TAGS_BI_PASSWORD=BI_TEST_PASSWORD):
            initiator = db.client()
            with environment(WAREHOUSE_HTTP_PORT=str(other_http)):
                other = db.client()
            yield initiator, other
    finally:
        for root in roots:
            warehouse.stop(root)


@pytest.mark.slow
def test_two_shards_give_the_tags_and_audience_sizes_of_one_server(single_node, two_shards):
    initiator, other = two_shards
    demo.generate(initiator, CUSTOMERS, 42, AS_OF)
    copied = shards.prepare(initiator, [other], AS_OF)
    assert "tag_store.tag_snapshots_local" in copied

    nightly_run()

    assert initiator.query("SELECT engine_full FROM system.tables WHERE database = 'tag_store' "
                           "AND name = 'tag_snapshots'").result_rows[0][0] == \
        f"Distributed('{CLUSTER}', 'tag_store', 'tag_snapshots_local', cityHash64(customer_id))"
    # each shard holds its own customers, none twice, and together all of them
    total = initiator.command("SELECT uniqExact(customer_id) FROM tag_store.tag_snapshots")
    on_shards = [server.command("SELECT uniqExact(customer_id) FROM tag_store.tag_snapshots_local")
                 for server in (initiator, other)]
    assert all(count > 0.3 * total for count in on_shards) and sum(on_shards) == total
    found = published(initiator)
    for name, rows in single_node.items():
        assert found[name] == rows, (name, set(found[name]) ^ set(rows))


@pytest.mark.slow
def test_a_rerun_on_two_shards_replaces_the_published_run_and_cleans_what_it_can(single_node, two_shards):
    initiator, _ = two_shards
    first_run = initiator.command("SELECT any(run_id) FROM tag_store.publish_log")

    nightly_run()  # the same as_of again: the first run is superseded

    assert published(initiator) == single_node
    # the replicated store tables lose the superseded run; the sharded one cannot here (no ON CLUSTER)
    # and keeps it unseen, as orchestration/publishing/publish.py says
    assert initiator.command("SELECT count() FROM tag_store.tag_bitmap_snapshots WHERE run_id = %(r)s",
                             parameters={"r": first_run}) == 0
    assert initiator.command("SELECT count() FROM tag_store.tag_snapshots WHERE run_id = %(r)s",
                             parameters={"r": first_run}) > 0


def test_the_cluster_target_shards_by_customer_and_replicates_the_store():
    """The `cluster` target as dbt parses it (no server needed: parsing resolves every config)."""
    env = {**os.environ, "DBT_TARGET": "cluster", "CLICKHOUSE_CLUSTER": CLUSTER}
    subprocess.run([DBT_EXECUTABLE, "parse", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
                    "--target-path", "target/cluster"], env=env, cwd=PROJECT_DIR, capture_output=True, check=True)
    nodes = {node["name"]: node for node in json.loads(
        (PROJECT_DIR / "target" / "cluster" / "manifest.json").read_text())["nodes"].values()
        if node["resource_type"] == "model"}

    snapshots = nodes["tag_snapshots"]["config"]
    assert snapshots["materialized"] == "distributed_incremental"
    assert snapshots["sharding_key"] == "cityHash64(customer_id)"
    assert snapshots["engine"] == "ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')"
    assert snapshots["incremental_strategy"] == "append" and snapshots["full_refresh"] is False
    for replicated in ("tag_bitmap_snapshots", "tag_change_log", "publish_log", "audience_bitmap_snapshots"):
        assert nodes[replicated]["config"]["engine"] == \
            "ReplicatedMergeTree('/clickhouse/tables/all/{database}/{table}', '{replica}')", replicated
    # reads of the sharded table that also read an initiator-only table send that table to the shards
    assert "global inner join" in nodes["tag_bitmap_snapshots"]["raw_code"]
    for model in ("customer_tags", "tag_history", "value_shares", "accuracy_mismatches"):
        assert "global in" in nodes[model]["raw_code"], model
