"""Tag model stubs are generated from the catalog, and CI fails when the two disagree."""

import dataclasses

from orchestration import catalog, catalog_sync


def test_committed_stubs_agree_with_the_catalog():
    assert catalog_sync.differences(catalog.load()) == []


def test_every_rule_and_manual_tag_has_a_one_line_stub():
    rows = catalog.load()
    files = catalog_sync.expected_files(rows)
    for row in rows:
        path = catalog_sync.GENERATED_DIR / f"tag_{row.tag_key}.sql"
        if row.method in ("rule", "manual") and row.status != "archived":
            assert files[path].endswith(f"{{{{ catalog_tag('{row.tag_key}') }}}}\n")
        else:
            assert path not in files


def test_a_new_catalog_row_or_a_removed_one_is_a_difference():
    rows = catalog.load()
    template = next(r for r in rows if r.method == "rule")
    added = rows + [dataclasses.replace(template, tag_key="brand_new_tag")]
    assert "write models/tags/generated/tag_brand_new_tag.sql" in catalog_sync.differences(added)
    assert f"delete models/tags/generated/tag_{template.tag_key}.sql" in catalog_sync.differences(
        [r for r in rows if r is not template])


def test_catalog_validation_knows_exactly_the_documented_features():
    import yaml

    from orchestration.settings import PROJECT_DIR

    document = yaml.safe_load((PROJECT_DIR / "models" / "features" / "customer_features.yml").read_text())
    documented = [c["name"] for c in document["models"][0]["columns"]]
    assert sorted(catalog.FEATURE_COLUMNS) == sorted(documented)
