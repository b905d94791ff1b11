"""How dbt nodes look in Dagster: groups by layer, tag models carry their catalog row, and the
quality checks (dbt tests tagged quality_check) are asset checks on their tag's asset."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings
from dagster_dbt.asset_utils import DAGSTER_DBT_UNIQUE_ID_METADATA_KEY, get_asset_check_key_for_test

# models/<folder>/... -> the Dagster group; seeds are the catalog.
LAYERS = {"staging": "staging", "features": "features", "tags": "tags", "marts": "outputs", "audiences": "audiences",
          "quality": "quality"}


def is_tag_model(props: Mapping[str, Any]) -> bool:
    return "tag_key" in (props.get("config", {}).get("meta") or {})


class TagTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "catalog"
        if dbt_resource_props["resource_type"] == "source":
            return "raw"
        fqn = dbt_resource_props.get("fqn", [])
        return LAYERS.get(fqn[1]) if len(fqn) > 2 else None

    def get_owners(self, dbt_resource_props: Mapping[str, Any]):
        owner = (dbt_resource_props.get("config", {}).get("meta") or {}).get("owner")
        return [f"team:{owner}"] if owner else None

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        meta = dbt_resource_props.get("config", {}).get("meta") or {}
        if not is_tag_model(dbt_resource_props):
            return {}
        return {"category": meta["category"], "method": meta["method"], "value_type": meta["value_type"],
                "status": meta["status"]}

    def get_asset_check_spec(self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str,
                             project) -> dg.AssetCheckSpec | None:
        """A quality check (a test on tag_quality_figures whose meta names its tag model in dagster.ref) is a check
        on the tag's asset, offered here as a child of tag_quality_figures, which it depends on.
        It blocks in Dagster (stops publishing) only when it blocks a `hold_night` tag: a failed blocking check
        of a `hold_tag` tag must let the night publish, and the publish step holds that tag (holds.py). dbt's
        severity stays error for both, so `dbt build` alone fails on either."""
        test = manifest["nodes"].get(unique_id, {})
        meta = test.get("config", {}).get("meta") or {}
        if "check" not in meta:
            return super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        key = get_asset_check_key_for_test(manifest, self, unique_id, project)
        if key is None:
            raise ValueError(f"the quality check {test.get('name')} names no tag model in meta.dagster.ref")
        return dg.AssetCheckSpec(name=key.name, asset=key.asset_key, description=test.get("description") or None,
                                 additional_deps=[asset_spec.key], metadata={DAGSTER_DBT_UNIQUE_ID_METADATA_KEY: unique_id},
                                 blocking=bool(meta["blocking"]) and meta["when_blocked"] == "hold_night")

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        meta = dbt_resource_props.get("config", {}).get("meta") or {}
        extra = {key: meta[key] for key in ("tag_key", "tag_name", "owner", "rule") if key in meta}
        if meta.get("params"):  # a score's or method's params, as the model reads them
            extra["params"] = ", ".join(f"{k}={v}" for k, v in meta["params"].items())
        return {**super().get_metadata(dbt_resource_props), **extra}
