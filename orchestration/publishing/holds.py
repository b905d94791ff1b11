"""Tags held back by a failed blocking check: the tag keeps its last published values, the night goes on.

A tag's `when_blocked` (catalog) says what a failed blocking check holds: `hold_tag` the tag alone,
`hold_night` the whole run. For a held tag the run's outputs are rebuilt with the run value
held_tags (macros/utils/run_var.sql), so all_tags carries the published rows of that tag into the run (macros/tags/tag_rows.sql) and
everything built from it (the long table, bitmaps, the profile, audiences, tag_catalog with
`stale` = 1 and `values_as_of`) agrees; then the run publishes as usual.
"""

from __future__ import annotations

from orchestration.relations import relation
from orchestration import relations
from orchestration.catalog import catalog
from orchestration.publishing import publish

REBUILD_FROM = "all_tags"
REBUILD_SELECTOR = f"{REBUILD_FROM}+"
# The rebuild does not judge the run again: its quality figures, their checks and the accuracy
# comparison stay as the build recorded them (the held tag's failure is what check_results keeps).
REBUILD_EXCLUDE = "path:models/quality"


def rebuilt_store_tables() -> list[str]:
    """The store tables the rebuild appends to again (the incremental models downstream of all_tags, from
    the dbt manifest): their run rows are forgotten first. The others, such as the run's copy of the
    audiences, stay as written."""
    return sorted(node["name"] for node in relations.downstream_models(REBUILD_FROM)
                  if node["schema"] == "tag_store" and node["config"]["materialized"] == "incremental")


def held_tags(client, run_id: str, rows: list[catalog.CatalogRow]) -> dict[str, list[str]]:
    """tag_key -> its failed blocking checks, for the hold_tag tags whose blocking check failed in this run."""
    holding = {r.tag_key for r in rows if r.when_blocked == "hold_tag"}
    failed = client.query(f"SELECT tag_key, groupArray(toString(check)) FROM {relation('check_results')} WHERE run_id = %(r)s "
                          "AND blocking AND NOT passed GROUP BY tag_key ORDER BY tag_key",
                          parameters={"r": run_id}).result_rows
    return {tag_key: sorted(checks) for tag_key, checks in failed if tag_key in holding}


def forget_run_outputs(client, run_id: str) -> None:
    """Delete the run's rows of the tables the rebuild writes again (nothing of it is published yet)."""
    for table in rebuilt_store_tables():
        altered = publish.altered_table(client, table)
        if altered is None:
            raise publish.PublishError(f"holding a tag back rewrites this run's rows of {relations.relation(table)}, which is "
                                       "sharded on a warehouse that cannot run ON CLUSTER; set when_blocked = "
                                       "hold_night for this target")
        client.command(f"ALTER TABLE {altered} DELETE WHERE run_id = %(r)s", parameters={"r": run_id},
                       settings={"mutations_sync": 2})
