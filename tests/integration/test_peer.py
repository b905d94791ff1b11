"""The benchmark's DuckDB peer (bench/duckdb_peer.py) against the published demo night: from the same raw tables
and the same stitched accounts, the same members for every rule tag. The benchmark checks this at its scale; here
it is checked on every change, so the peer cannot drift from the product between benchmark runs."""

from __future__ import annotations

from bench import duckdb_peer
from bench.__main__ import export_parquet
from tests.integration.known import AS_OF


def test_the_duckdb_peer_gives_the_members_of_every_rule_tag(demo_night, client, tmp_path):
    export_parquet(client, tmp_path)
    assert client.command("SELECT count() FROM identity.stitched_customers WHERE customer_id != stitched_customer_id")
    ours = dict(client.query("SELECT tag_key, member_count FROM tags.tag_catalog").result_rows)
    theirs = duckdb_peer.run(tmp_path, AS_OF)
    assert theirs and set(theirs) == {row.tag_key for row in duckdb_peer.rule_tags()}
    assert {key: ours.get(key) for key in theirs} == theirs
