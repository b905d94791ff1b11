"""How dbt nodes look in Dagster: groups by layer, and tag models carry their catalog row."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

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

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        meta = dbt_resource_props.get("config", {}).get("meta") or {}
        extra = {key: meta[key] for key in ("tag_key", "tag_name", "owner") if key in meta}
        return {**super().get_metadata(dbt_resource_props), **extra}
