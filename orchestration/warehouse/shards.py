"""Embedded servers on loopback as the shards of one cluster: the `two_shards` dbt target.

On a real cluster (the `cluster` target) dbt-clickhouse creates every table ON CLUSTER, so each
node gets its shard of tag_snapshots from the same DDL. The embedded engine has no Keeper and
refuses ON CLUSTER, so here the shard tables are made in two steps instead:
1. on the first server (the initiator, the one dbt talks to), dbt builds what tag_snapshots reads,
   then tag_snapshots with no rows (`--empty`): the shard table `tag_store.tag_snapshots_local` and
   the Distributed table over it;
2. the DDL of every Distributed table and of its shard table is copied to the other servers.
After that, the nightly job runs on the initiator as usual and the Distributed table routes each
customer's rows to its shard.
"""

from __future__ import annotations

import datetime as dt
import re
from xml.sax.saxutils import escape

# engine_full of a Distributed table: Distributed('cluster', 'database', 'table'[, sharding key])
DISTRIBUTED = re.compile(r"^Distributed\('([^']+)', '([^']+)', '([^']+)'")


class ShardError(RuntimeError):
    pass


def remote_servers_xml(cluster: str, tcp_ports: list[int]) -> str:
    """The <remote_servers> section every server of the cluster declares: one shard per port."""
    shards = "".join(f"<shard><replica><host>127.0.0.1</host><port>{port}</port></replica></shard>"
                     for port in tcp_ports)
    return f"\n    <remote_servers><{escape(cluster)}>{shards}</{escape(cluster)}></remote_servers>"


def shards_of(engine_full: str) -> tuple[str, str, str] | None:
    """(cluster, shard database, shard table) of a Distributed table's engine; None for any other engine."""
    match = DISTRIBUTED.match(engine_full)
    return match.groups() if match else None


def distributed_tables(client) -> list[tuple[str, str, str, str]]:
    """(database, table, shard database, shard table) of every Distributed table on a server."""
    rows = client.query("SELECT database, name, engine_full FROM system.tables WHERE engine = 'Distributed' "
                        "ORDER BY database, name").result_rows
    tables = []
    for database, name, engine_full in rows:
        if not (shards := shards_of(engine_full)):
            raise ShardError(f"cannot read the shard table of {database}.{name} from its engine: {engine_full}")
        tables.append((database, name, shards[1], shards[2]))
    return tables


def copy_shard_tables(initiator, others: list) -> list[str]:
    """Create on every other server the shard tables and the Distributed tables of the initiator."""
    copied = []
    for database, name, shard_database, shard_table in distributed_tables(initiator):
        for qualified_name, db_name in ((f"{shard_database}.{shard_table}", shard_database), (f"{database}.{name}", database)):
            ddl = initiator.query(f"SHOW CREATE TABLE {qualified_name}").result_rows[0][0]
            ddl = ddl.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS", 1)
            for other in others:
                other.command(f"CREATE DATABASE IF NOT EXISTS {db_name}")
                other.command(ddl)
            copied.append(qualified_name)
    return copied


def prepare(initiator, others: list, as_of: dt.date) -> list[str]:
    """Make the sharded tables exist on every server before the first nightly run (steps 1 and 2 above).
    Needs DBT_TARGET=two_shards and the initiator's ports in the environment."""
    from orchestration.dagster import dbt_runner  # dbt loads slowly; the rest of this module does not need it
    from orchestration.models import model_tags  # (and scikit-learn, which model_tags imports when it trains)

    # the model tags read the model step's scores table, which the nightly's dbt step makes before they build
    model_tags.create_tables(initiator)
    # What tag_snapshots reads is built for real (the tag models read the catalog seed while they
    # compile, which --empty would leave empty); tag_snapshots itself with no rows. Raises DbtFailed.
    dbt_runner.run("build --resource-type seed --resource-type model --exclude tag_snapshots", as_of,
                   select=["+tag_snapshots"])
    dbt_runner.run("run --empty", as_of, select=["tag_snapshots"])
    copied = copy_shard_tables(initiator, others)
    if not copied:
        raise ShardError("the initiator has no Distributed table: is DBT_TARGET two_shards?")
    return copied
