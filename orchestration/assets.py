"""The nightly refresh as assets: every dbt model (staging, features, tags, outputs), then publishing.

A run is identified by its Dagster run id (every row it writes to the tag store carries it) and
computes as of its partition, a day (partitions.py). Publishing depends directly on every tag
model, so a failed blocking check on any tag (checks.py) stops it: the published tags stay as
they were. Everything here follows from the dbt manifest: loading it reads no catalog file.
"""

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets, get_asset_key_for_model

from orchestration import catalog, catalog_sync, dbt_runner, holds, hygiene, incremental, publish, report
from orchestration.partitions import AS_OF_PARTITIONS, ONE_DAY_PER_RUN, as_of_of
from orchestration.project import PROJECT
from orchestration.resources import RefreshLock, WarehouseResource
from orchestration.translator import TagTranslator

FULL_REFRESH_TAG = "full_refresh"  # "true": rebuild staging and features from scratch (`tags refresh --full`)
MAKE_CURRENT_TAG = "make_current"  # "true": a backfill (an as_of before the current one) replaces what BI reads


def _op_context(context):
    """The op context behind an asset or asset-check context."""
    return getattr(context, "op_execution_context", context)


def run_id_of(context) -> str:
    """The id every row of this run in the tag store carries: the Dagster run id."""
    return _op_context(context).run_id


def check_catalog() -> list[catalog.CatalogRow]:
    """The catalog checks every run starts with: valid, and the generated dbt files in step with it."""
    rows = catalog.load()
    errors = catalog_sync.validate_all(rows)
    if errors:
        raise dg.Failure(description=f"the tag catalog or the audiences have {len(errors)} error(s); nothing was built",
                         metadata={"errors": "\n".join(map(str, errors))})
    drift = catalog_sync.differences(rows)
    if drift:
        raise dg.Failure(description="the generated dbt files disagree with the catalog: run `tags catalog sync` "
                                     "and reload the code location", metadata={"differences": "\n".join(drift)})
    return rows


@dbt_assets(manifest=PROJECT.manifest_path, project=PROJECT, dagster_dbt_translator=TagTranslator(),
            partitions_def=AS_OF_PARTITIONS, backfill_policy=ONE_DAY_PER_RUN)
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource, refresh_lock: RefreshLock):
    check_catalog()
    publish.retention_days()  # a bad TAG_HISTORY_RETENTION_DAYS stops the run before anything is built
    client = warehouse.client(context)
    args = ["build", "--vars", dbt_runner.dbt_vars(as_of_of(context), run_id_of(context))]
    if _op_context(context).run.tags.get(FULL_REFRESH_TAG) == "true":
        args.append("--full-refresh")
    elif reasons := incremental.full_rebuild_reasons(client):
        context.log.warning(f"rebuilding staging and features in full: {'; '.join(reasons[:5])}")
        args.append("--full-refresh")
    yield from dbt.cli(args, context=context).stream()


# Every built tag's asset: the models whose meta carries a tag_key (written by `tags catalog sync` from the
# catalog into the generated YAML, so the manifest has them: no catalog file is read here). Publishing
# depends on each, the checks target each.
TAG_ASSETS: list[dg.AssetKey] = [spec.key for spec in dbt_models.specs if "tag_key" in spec.metadata]


def tag_asset_key(tag_key: str) -> dg.AssetKey:
    """The asset of a catalog tag's model."""
    return get_asset_key_for_model([dbt_models], catalog_sync.model_name(tag_key))


STORE_MODELS = (*publish.STORE_TABLES, "customer_profile", "customer_index")  # profile: the view over profile_snapshots


@dg.asset(
    group_name="publish",
    partitions_def=AS_OF_PARTITIONS, backfill_policy=ONE_DAY_PER_RUN,
    deps=[*TAG_ASSETS, *(get_asset_key_for_model([dbt_models], m) for m in STORE_MODELS)],
    description="Makes this run what BI reads in `tags` and `audiences`: one row in tag_store.publish_log "
                "switches every published view at once, the wide profile included; tags held back by a failed check "
                "keep their published rows (orchestration/publish.py, holds.py).",
)
def published_tags(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource,
                   refresh_lock: RefreshLock) -> dg.MaterializeResult:
    as_of, run_id, client = as_of_of(context), run_id_of(context), warehouse.client(context)
    held = holds.held_tags(client, run_id, catalog.load())
    if held:
        context.log.warning("holding back at their last published values: " + "; ".join(
            f"{tag} ({', '.join(checks)} failed)" for tag, checks in held.items()))
        holds.forget_run_outputs(client, run_id)
        dbt.cli(["build", "--select", holds.REBUILD_SELECTOR, "--vars", dbt_runner.dbt_vars(as_of, run_id, list(held))],
                manifest=PROJECT.manifest_path).wait()
    make_current = _op_context(context).run.tags.get(MAKE_CURRENT_TAG) == "true"
    done = publish.publish(client, run_id, as_of, make_current=make_current)
    if done.backfill:
        context.log.info(f"{as_of} is earlier than the current published day: published into the history only; "
                         "BI still reads the current run (`tags refresh --publish` makes a backfill current)")
    return dg.MaterializeResult(metadata={
        "run_id": done.run_id, "as_of": str(done.as_of), "backfill": done.backfill, "held_tags": ", ".join(held),
        "runs_removed": done.runs_removed,
        "days_dropped": ", ".join(done.days_dropped) or "none"})


@dg.asset(group_name="quality", deps=[published_tags], partitions_def=AS_OF_PARTITIONS, backfill_policy=ONE_DAY_PER_RUN,
          description="Catalog hygiene of the published run (kept in quality.hygiene) and the HTML quality report "
                      "(reports/quality/index.html).")
def quality_report(context: AssetExecutionContext, warehouse: WarehouseResource, refresh_lock: RefreshLock) -> dg.MaterializeResult:
    client, as_of = warehouse.client(context), as_of_of(context)
    rows = catalog.load()
    figures = hygiene.measure(client, rows, as_of)
    hygiene.record(client, run_id_of(context), as_of, figures)
    path = report.write(client, rows, figures)
    return dg.MaterializeResult(metadata={
        "report": dg.MetadataValue.path(str(path)),
        **{name: dg.MetadataValue.text(f"{value:g} ({status})") for name, value, status, _ in figures.figures()}})
