"""The nightly refresh as assets: every dbt model (staging, features, tags, outputs), then publishing.

The dbt step runs dbt twice around the model step (orchestration/models/model_tags.py): the model tags read the
scores it writes from tonight's staging. It is part of the dbt step rather than an asset of its own between two
selections of the dbt assets: Dagster would split @dbt_assets into subsets, which dagster-dbt selects by FQN (the
seed `audiences` would select every model under models/audiences/ with it) and, past 200 names, runs from a copy
of the whole project directory.

A run is identified by its Dagster run id (every row it writes to the tag store carries it) and
computes as of its partition, a day (partitions.py). Publishing depends directly on every tag
model; the quality checks are dbt tests, asset checks on the tag assets (orchestration/quality/quality.py):
a failed blocking check of a `hold_night` tag stops publishing (the published tags stay as they
were), one of a `hold_tag` tag lets the night publish with that tag held (holds.py). Everything
here follows from the dbt manifest: loading it reads no catalog file.
"""

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, dbt_assets, get_asset_key_for_model

from orchestration import alerts
from orchestration.catalog import catalog, catalog_sync
from orchestration.dagster import dbt_runner, hooks
from orchestration.models import model_tags
from orchestration.dagster.partitions import AS_OF_PARTITIONS, ONE_DAY_PER_RUN, as_of_of, cutoff_of
from orchestration.dagster.project import PROJECT
from orchestration.dagster.resources import RefreshLock, WarehouseResource
from orchestration.dagster.translator import TagTranslator
from orchestration.publishing import holds, publish
from orchestration.quality import hygiene, quality, report
from orchestration.relations import relation
from orchestration.warehouse import contract, incremental

FULL_REFRESH_TAG = "full_refresh"  # "true": rebuild staging and features from scratch (`tags refresh --full`)
MAKE_CURRENT_TAG = "make_current"  # "true": a backfill (an as_of before the current one) replaces what BI reads


def _op_context(context):
    """The op context behind an asset or asset-check context."""
    return getattr(context, "op_execution_context", context)


def run_id_of(context) -> str:
    """The id every row of this run in the tag store carries: the Dagster run id."""
    return _op_context(context).run_id


def run_values(context, held_tags: list[str] | None = None) -> str:
    """This run's values for dbt (dbt_runner.run_values): its as_of, run id and cutoff (and the tags it holds back)."""
    return dbt_runner.run_values(as_of_of(context), run_id_of(context), held_tags, cutoff_of(context))


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
    if added := contract.add_optional_columns(client):  # raw made under an older contract
        context.log.info(f"raw tables given the contract's new optional columns: {', '.join(added)}")
    args = ["build"]
    if _op_context(context).run.tags.get(FULL_REFRESH_TAG) == "true":
        args.append("--full-refresh")
    elif reasons := incremental.full_rebuild_reasons(client):
        context.log.warning(f"rebuilding staging and features in full: {'; '.join(reasons[:5])}")
        args.append("--full-refresh")
    if context.is_subset:
        # `tags refresh --select`: the chosen nodes in one invocation, after the model step when a model tag is
        # among them (it reads the staging the night built)
        chosen = {key.to_user_string() for key in context.selected_asset_keys}
        run_model_step(context, client, [s for s in model_tags.model_specs()
                                         if f"tag_models/{catalog_sync.model_name(s.tag_key)}" in chosen])
        yield from build(context, dbt, client, args)
        return
    # The model tags read the scores the model step writes from tonight's staging: everything else first, then
    # the model step, then what reads its tables (selectors.yml); each node is built once.
    yield from build(context, dbt, client, [*args, "--selector", "before_model_step"])
    run_model_step(context, client, model_tags.model_specs())
    yield from build(context, dbt, client, [*args, "--selector", "after_model_step"])


def build(context: AssetExecutionContext, dbt: DbtCliResource, client, args: list[str]):
    """One dbt invocation of the step, its events streamed to Dagster."""
    # A failed quality check of error severity makes `dbt build` exit 1; Dagster judges those from the asset
    # checks (blocking or not), so the step fails only when another node errored or failed.
    invocation = dbt_runner.cli(dbt, args, run_values(context), context=context, raise_on_error=False)
    yield from with_tag_figures(invocation.stream(), invocation.manifest, client)
    dbt_runner.keep_parse(invocation)
    if invocation.is_successful():
        return
    # exit code 1: some node failed; anything else (2: dbt itself failed, e.g. the on-run-end hook) fails the step
    failed = failed_nodes(invocation.get_artifact("run_results.json"), invocation.manifest) \
        if invocation.process.returncode == 1 else [f"dbt: {invocation.get_error()}"]
    if failed:
        raise dg.Failure(description=f"dbt build failed: {'; '.join(failed[:5])}",
                         metadata={"failed": "\n".join(failed)})


def run_model_step(context, client, specs: list[model_tags.ModelSpec], as_of=None, run_id: str | None = None) -> None:
    """The model tags' models trained, validated and scored for this run (orchestration/models/model_tags.py; as_of and
    run_id default to the run's). A model with too low an AUC, or none, does not fail the step: its tag's blocking
    auc check holds the tag."""
    if not specs:
        return
    for record in model_tags.run(client, as_of or as_of_of(context), run_id or run_id_of(context), specs):
        if record.error:
            context.log.warning(f"model tag {record.spec.tag_key}: no model ({record.error}); its auc check holds it")
        else:
            context.log.info(f"model tag {record.spec.tag_key}: model {record.version}, AUC {record.validation_auc:.4f} "
                             f"(min_auc {record.spec.min_auc}) on {record.validation_rows:,} held-out customers, "
                             f"{record.scored:,} customers scored; {record.train_seconds + record.score_seconds:.1f} s")


def with_tag_figures(events, manifest: dict, client):
    """dbt's events, each tag model's materialization with its members and coverage added: numbers, so the
    asset's page in Dagster plots them run after run (dbt's own metadata, the execution duration among it, stays).
    A tag model is a table of one row per member, so its count() is read from the table's metadata."""
    customers = None
    for event in events:
        node = manifest["nodes"].get(getattr(event.metadata.get("unique_id"), "value", ""), {}) \
            if isinstance(event, dg.Output) else {}
        if "tag_key" in (node.get("config", {}).get("meta") or {}):
            if customers is None:
                customers = int(client.command(f"SELECT count() FROM {relation('customer_features')}"))
            members = int(client.command(f"SELECT count() FROM {node['schema']}.{node.get('alias') or node['name']}"))
            event = event.with_metadata({**event.metadata, "members": dg.MetadataValue.int(members),
                                         "coverage_pct": dg.MetadataValue.float(
                                             round(100 * members / customers, 3) if customers else 0.0)})
        yield event


def failed_nodes(run_results: dict, manifest: dict, with_quality_checks: bool = False) -> list[str]:
    """`name: message` of every node of a dbt invocation that errored or failed (a test of severity warn that fails
    only warns), but for the quality checks (tests tagged quality_check), whose outcome the asset checks carry,
    unless with_quality_checks (the intraday lane's step judges them itself)."""
    failed = []
    for result in run_results.get("results", []):
        node = manifest["nodes"].get(result["unique_id"], {})
        if result["status"] in ("error", "fail", "runtime error") and (
                with_quality_checks or quality.CHECK_TAG not in node.get("tags", [])):
            failed.append(f"{node.get('name', result['unique_id'])}: {result.get('message') or result['status']}")
    return failed


# Every built tag's asset: the models whose meta carries a tag_key (written by `tags catalog sync` from the
# catalog into the generated YAML, so the manifest has them: no catalog file is read here). Publishing
# depends on each; the quality checks (dbt tests) are attached to each (translator.py).
TAG_ASSETS: list[dg.AssetKey] = [spec.key for spec in dbt_models.specs if "tag_key" in spec.metadata]


STORE_MODELS = (*publish.store_tables(), "customer_profile", "customer_index")  # profile: the view over profile_snapshots


@dg.asset(
    group_name="publish",
    partitions_def=AS_OF_PARTITIONS, backfill_policy=ONE_DAY_PER_RUN,
    deps=[*TAG_ASSETS, *(get_asset_key_for_model([dbt_models], m) for m in STORE_MODELS)],
    description=f"Makes this run what BI reads in `tags` and `audiences`: one row in {relation('publish_log')} "
                "switches every published view at once, the wide profile included; tags held back by a failed check "
                "keep their published rows (orchestration/publishing/publish.py, holds.py).",
)
def published_tags(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource,
                   refresh_lock: RefreshLock) -> dg.MaterializeResult:
    as_of, run_id, client = as_of_of(context), run_id_of(context), warehouse.client(context)
    held = holds.held_tags(client, run_id, catalog.load())
    if held:
        context.log.warning("holding back at their last published values: " + "; ".join(
            f"{tag} ({', '.join(checks)} failed)" for tag, checks in held.items()))
        holds.forget_run_outputs(client, run_id)
        dbt_runner.cli(dbt, ["build", "--select", holds.REBUILD_SELECTOR, "--exclude", holds.REBUILD_EXCLUDE],
                       run_values(context, list(held)), manifest=PROJECT.manifest_path).wait()
    make_current = _op_context(context).run.tags.get(MAKE_CURRENT_TAG) == "true"
    done = publish.publish(client, run_id, as_of, make_current=make_current, cutoff=cutoff_of(context))
    if held:
        hooks.tell(context.log, alerts.Alert(
            subject=f"customer tags: the night of {as_of} was published with {len(held)} tag(s) held at their last "
                    f"published values: {', '.join(held)}",
            lines=hooks.failed_checks(context.instance, context.run_id, client), run_id=context.run_id))
    if done.backfill:
        context.log.info(f"{as_of} is earlier than the current published day: published into the history only; "
                         "BI still reads the current run (`tags refresh --publish` makes a backfill current)")
    return dg.MaterializeResult(metadata={
        "run_id": done.run_id, "as_of": str(done.as_of), "cutoff": str(done.cutoff), "backfill": done.backfill, "held_tags": ", ".join(held),
        "runs_removed": done.runs_removed,
        "days_dropped": ", ".join(done.days_dropped) or "none"})


@dg.asset(group_name="quality", deps=[published_tags], partitions_def=AS_OF_PARTITIONS, backfill_policy=ONE_DAY_PER_RUN,
          description=f"Catalog hygiene of the published run (kept in {relation('hygiene')}) and the HTML quality report "
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
