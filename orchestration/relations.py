"""What the dbt project says about its relations, read from its manifest (target/manifest.json, written by
`dbt parse`): where a model lives, how it is partitioned, what is built from it. Python names no relation
and copies no model config of its own.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from orchestration.settings import PROJECT_DIR

MANIFEST = PROJECT_DIR / "target" / "manifest.json"


class ManifestError(RuntimeError):
    pass


@functools.cache
def _manifest(path: Path = MANIFEST) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ManifestError(f"{path} is missing: run `make setup` (dbt parse) first") from exc


def reload() -> None:
    """Forget the manifest read so far (after `dbt parse` rewrote it)."""
    _manifest.cache_clear()


def _node(name: str) -> dict:
    """The model, seed or snapshot called name; a source as 'source_name.table'."""
    manifest = _manifest()
    if "." in name:
        source, table = name.split(".", 1)
        found = [n for n in manifest["sources"].values() if (n["source_name"], n["name"]) == (source, table)]
    else:
        found = [n for n in manifest["nodes"].values()
                 if n["name"] == name and n["resource_type"] in ("model", "seed", "snapshot")]
    if len(found) != 1:
        raise ManifestError(f"the dbt project has {len(found)} relations named {name!r} (expected one)")
    return found[0]


def relation(name: str) -> str:
    """`database.table` of a dbt model or seed (or of a source given as 'source_name.table') in ClickHouse."""
    node = _node(name)
    return f"{node['schema']}.{node.get('alias') or node.get('identifier') or node['name']}"


def partition_key(name: str) -> str | None:
    """The model's partition_by expression, as its config writes it."""
    return _node(name).get("config", {}).get("partition_by")


def models(schema: str | None = None, materialized: str | None = None) -> list[dict]:
    """The project's models (manifest nodes), optionally of one schema and materialization."""
    return [n for n in _manifest()["nodes"].values() if n["resource_type"] == "model"
            and schema in (None, n["schema"]) and materialized in (None, n["config"]["materialized"])]


def downstream_models(name: str) -> list[dict]:
    """Every model built from this one (directly or not), as manifest nodes."""
    manifest = _manifest()
    start = _node(name)["unique_id"]
    below, todo = set(), [start]
    while todo:
        for child in manifest["child_map"].get(todo.pop(), []):
            if child not in below:
                below.add(child)
                todo.append(child)
    return [manifest["nodes"][uid] for uid in sorted(below)
            if uid in manifest["nodes"] and manifest["nodes"][uid]["resource_type"] == "model"]
