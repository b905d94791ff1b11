"""New catalog rows onto the published night: `tags refresh --select <new tag>` builds only the new tags and what
must change for them, and publishes them beside the night's tags.

A run of job `new_tags_refresh` (run tag `new_tags`: the tag keys, comma-separated) is as of the published night's
as_of and evaluated at its cutoff, so the new tags read the same customer_features as every other tag of the night.
dbt builds, with var lane = new_tags (macros/tags/lane.sql):
- the new tags' models;
- their rows in the tag store under the run's id (tag_snapshots, their bitmaps, their catalog snapshot, the change
  log: every member added), the accuracy sample's tags for them (the night's sample), their quality figures and
  their quality checks, the same dbt tests the night runs.
A failed node or blocking check publishes nothing. Otherwise one row in publish_log (lane new_tags, refining the
night) adds the tags to tags.customer_tags, tags.tag_bitmaps and tags.tag_catalog at once; every other tag stays
where it is read from. The next night builds them with the rest: their profile column, history and audiences
start then. Catalog rows the published night already built are not new: `tags refresh --as-of <day> --select
<tag>` runs the whole day again with them.
"""

# No `from __future__ import annotations`: Dagster reads the context annotations when the assets are defined.

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource

from orchestration.catalog import catalog
from orchestration.models import model_tags
from orchestration.dagster import refinement
from orchestration.dagster.assets import check_catalog, run_id_of, run_model_step
from orchestration.dagster.hooks import alert_on_failure
from orchestration.dagster.partitions import AS_OF_PARTITIONS, ONE_DAY_PER_RUN, as_of_of
from orchestration.dagster.resources import RefreshLock, WarehouseResource
from orchestration.publishing import publish
from orchestration.relations import relation

JOB_NAME = "new_tags_refresh"
GROUP = "new_tags"
KEYS_TAG = "new_tags"  # the run tag: the tag keys the run builds, comma-separated


def keys_of(context) -> list[str]:
    """The tag keys of this run (run tag new_tags)."""
    tags = getattr(context, "op_execution_context", context).run.tags
    return sorted(key for key in tags.get(KEYS_TAG, "").split(",") if key)


def refusal(keys: list[str], rows: list[catalog.CatalogRow], built_by_night: set[str] | None) -> str | None:
    """Why the run's keys cannot be built onto the night (built_by_night: publish.night_tag_keys), or None."""
    if not keys:
        return f"run tag {KEYS_TAG} names no tag: give the new catalog rows' keys, comma-separated"
    return publish.new_tags_refusal(keys, rows, built_by_night)


@dg.asset(group_name=GROUP, partitions_def=AS_OF_PARTITIONS, backfill_policy=ONE_DAY_PER_RUN,
          description="New catalog rows (run tag new_tags) built alone as of the published night, at its cutoff: "
                      "their models, their rows in the tag store under the run's id, their quality checks "
                      "(orchestration/dagster/new_tags.py).")
def new_tags(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource,
             refresh_lock: RefreshLock) -> dg.MaterializeResult:
    keys, client = keys_of(context), warehouse.client(context)
    night = refinement.night_refined(client, as_of_of(context), "a run of new tags")
    reason = refusal(keys, check_catalog(), publish.night_tag_keys(client))
    if reason:
        raise dg.Failure(description=reason)
    # with the catalog seed (the new rows' thresholds and text) and the view of all tags the store reads, both
    # written again from the catalog (catalog_sync)
    models = {"tag_catalog", "all_tags", *(f"tag_{key}" for key in keys), *refinement.STORE_MODELS,
              *refinement.QUALITY_MODELS}
    # a new model tag reads the scores of its model, trained on the night's staging under this run's id
    run_model_step(context, client, [s for s in model_tags.model_specs() if s.tag_key in keys], night[0],
                   run_id_of(context))
    return refinement.build(context, dbt, client, what="the new tags' run", models=models, tag_keys=keys,
                            as_of=night[0], run_id=run_id_of(context), cutoff=night[1], lane="new_tags")


@dg.asset(group_name=GROUP, deps=[new_tags], partitions_def=AS_OF_PARTITIONS, backfill_policy=ONE_DAY_PER_RUN,
          description=f"Makes the new tags what BI reads beside the night's: one row in {relation('publish_log')} "
                      "adds them, and only them, to tags.customer_tags, tags.tag_bitmaps and tags.tag_catalog.")
def published_new_tags(context: AssetExecutionContext, warehouse: WarehouseResource,
                       refresh_lock: RefreshLock) -> dg.MaterializeResult:
    keys, client = keys_of(context), warehouse.client(context)
    night = refinement.published_night(client)
    try:
        done = publish.publish_refinement(client, run_id_of(context), as_of_of(context), cutoff=night[1] if night else None,
                                          tag_keys=keys, lane="new_tags")
    except publish.PublishError as exc:
        raise dg.Failure(description=str(exc)) from exc
    return dg.MaterializeResult(metadata={"run_id": done.run_id, "as_of": str(done.as_of), "tags": ", ".join(keys)})


def new_tags_job():
    return dg.define_asset_job(JOB_NAME, selection=dg.AssetSelection.groups(GROUP), executor_def=dg.in_process_executor,
                               hooks={alert_on_failure},
                               description="New catalog rows built alone onto the published night, checked and "
                                           "published beside its tags (orchestration/dagster/new_tags.py).")
