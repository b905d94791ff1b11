"""What the runs that refine the published night share: the intraday lane (intraday.py) and new catalog rows
(new_tags.py). Each builds a few tags as of the night's as_of under its own run id, with the store and quality
models restricted to those tags (macros/tags/lane.sql), judges every node and quality check itself, and publishes
one publish_log row that switches only its tags (publish.publish_refinement).
"""

# No `from __future__ import annotations`: Dagster reads the context annotations of the assets that call this.

import datetime as dt
import json

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.dagster import dbt_runner
from orchestration.dagster.assets import failed_nodes
from orchestration.dagster.project import PROJECT
from orchestration.quality import quality
from orchestration.relations import relation

# The store models of a refining run (each keeps to the run's tags) and the quality models that check it. The
# accuracy sample keeps the night's customers and features; its tags are evaluated again for the run's tags.
STORE_MODELS = ("tag_snapshots", "tag_bitmap_snapshots", "tag_catalog_snapshots", "tag_change_log")
QUALITY_MODELS = ("accuracy_sample_tags", "accuracy_mismatches", "value_shares", "tag_quality_figures")


def published_night(client) -> tuple[dt.date, dt.datetime] | None:
    """(as_of, cutoff) of the night BI reads now, or None before the first publish."""
    night = client.query(f"SELECT as_of, cutoff FROM {relation('published_run')}").result_rows
    return tuple(night[0]) if night else None


def night_refined(client, as_of: dt.date, what: str) -> tuple[dt.date, dt.datetime]:
    """(as_of, cutoff) of the published night a run as of as_of refines; the run fails when that is not the night
    BI reads (what names the run: "the intraday lane")."""
    night = published_night(client)
    if not night or night[0] != as_of:
        raise dg.Failure(description=f"{what} refines the published night, which is "
                                     f"{f'as of {night[0]}' if night else 'none yet'}, not {as_of}")
    return night


def dbt_selection(manifest: dict, models: set[str], tag_keys: list[str]) -> list[str]:
    """The dbt nodes of a refining run, by name: its models (and seeds), and every test whose parents are all among
    them but for the quality checks of other tags (they sit on tag_quality_figures too, and judge the night)."""
    ids = {uid for uid, node in manifest["nodes"].items()
           if node["resource_type"] in ("model", "seed") and node["name"] in models}
    missing = models - {manifest["nodes"][uid]["name"] for uid in ids}
    if missing:
        raise dg.Failure(description=f"the dbt project has no model {', '.join(sorted(missing))}: the run cannot be "
                                     "built (run `tags catalog sync`, then reload)")
    tests = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or not set(node["depends_on"]["nodes"]) <= ids:
            continue
        checked = (node["config"].get("meta") or {}).get("tag_key")
        if quality.CHECK_TAG in node["tags"] and checked not in tag_keys:
            continue
        tests.append(node["name"])
    return sorted(models) + sorted(tests)


def build(context: dg.AssetExecutionContext, dbt: DbtCliResource, client, *, what: str, models: set[str],
          tag_keys: list[str], as_of: dt.date, run_id: str, cutoff: dt.datetime, lane: str) -> dg.MaterializeResult:
    """dbt build of a refining run's models and tests in lane; any failed node or quality check fails the step
    (nothing is published). what names the run in messages ("the intraday run")."""
    manifest = json.loads(PROJECT.manifest_path.read_text())
    args = ["build", "--select", " ".join(dbt_selection(manifest, models, tag_keys)), "--indirect-selection", "empty"]
    values = dbt_runner.run_values(as_of, run_id, cutoff=cutoff, lane=lane, new_tags=tag_keys if lane == "new_tags" else None)
    # dbt prints its progress, node by node, to the step's output (the run's compute logs in the UI); the event log
    # gets one line per run: an intraday run a minute would otherwise write some 150 events each time
    invocation = dbt_runner.cli(dbt, args, values, manifest=PROJECT.manifest_path, raise_on_error=False).wait()
    # exit code 1: some node failed (run_results.json names them); anything else: dbt itself failed
    results = invocation.get_artifact("run_results.json") if invocation.process.returncode in (0, 1) else {}
    failed = (failed_nodes(results, manifest, with_quality_checks=True) if results
              else [f"dbt: {dbt_runner.failure(invocation)}"])
    statuses = [r["status"] for r in results.get("results", [])]
    context.log.info(f"dbt build of {what}: {len(statuses)} nodes, " + ", ".join(
        f"{statuses.count(s)} {s}" for s in sorted(set(statuses))))
    if failed:
        raise dg.Failure(description=f"{what} failed, nothing was published: {'; '.join(failed[:5])}",
                         metadata={"failed": "\n".join(failed)})
    members = dict(client.query(f"SELECT tag_key, member_count FROM {relation('tag_catalog_snapshots')} "
                                "WHERE run_id = %(r)s", parameters={"r": run_id}).result_rows)
    return dg.MaterializeResult(metadata={"as_of": str(as_of), "cutoff": str(cutoff), "tags": ", ".join(tag_keys),
                                          **{f"members_{k}": dg.MetadataValue.int(int(members.get(k, 0))) for k in tag_keys}})
