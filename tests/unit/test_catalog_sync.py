"""The dbt files that follow from the catalog are generated, and CI fails when they disagree with it."""

import dataclasses

import yaml

from orchestration.catalog import catalog, catalog_sync, rules


def test_committed_stubs_agree_with_the_catalog():
    assert catalog_sync.differences(catalog.load()) == []


def test_every_generated_tag_has_a_one_line_stub_and_sql_tags_none():
    rows = catalog.load()
    files = catalog_sync.expected_files(rows)
    assert {r.method for r in rows} == {"rule", "rfm", "score", "manual", "sql", "model"}
    for row in rows:
        path = catalog_sync.GENERATED_DIR / f"tag_{row.tag_key}.sql"
        if row.method in ("rule", "manual", "rfm", "score") and row.status != "archived":
            assert files[path].endswith(f"{{{{ catalog_tag('{row.tag_key}') }}}}\n")
        elif row.method == "model" and row.status != "archived":  # only model tags depend on the model step
            assert files[path].endswith(f"{{{{ model_tag('{row.tag_key}') }}}}\n")
        else:
            assert path not in files


def test_every_built_tag_is_in_the_union_and_documented_with_its_catalog_meta():
    rows = catalog.load()
    files = catalog_sync.expected_files(rows)
    union = files[catalog_sync.GENERATED_DIR / "all_tags.sql"]
    documented = {m["name"]: m for m in yaml.safe_load(files[catalog_sync.GENERATED_DIR / "_tags.yml"])["models"]}
    for row in catalog_sync.built(rows):
        assert f"{{{{ tag_rows('{row.tag_key}') }}}}" in union and f"ref('tag_{row.tag_key}')" in union
        meta = documented[f"tag_{row.tag_key}"]["config"]["meta"]
        assert (meta["owner"], meta["category"], meta["method"]) == (row.owner, row.category, row.method)
    assert "tag_big_spender_sql" in documented  # the hand-written sql tag gets its YAML from the catalog too


def test_archived_tags_are_not_built_and_deprecated_ones_get_no_profile_column():
    rows = catalog.load()
    vip = next(r for r in rows if r.tag_key == "vip")
    files = catalog_sync.expected_files([dataclasses.replace(vip, status="archived")] + [r for r in rows if r is not vip], [])
    assert catalog_sync.GENERATED_DIR / "tag_vip.sql" not in files
    assert "ref('tag_vip')" not in files[catalog_sync.GENERATED_DIR / "all_tags.sql"]
    files = catalog_sync.expected_files([dataclasses.replace(vip, status="deprecated")] + [r for r in rows if r is not vip],
                                        [])
    assert "ref('tag_vip')" in files[catalog_sync.GENERATED_DIR / "all_tags.sql"]
    assert "'vip': 'flag'" not in files[catalog_sync.PROFILE_DIR / "profile_snapshots.sql"]
    assert " vip," not in files[catalog_sync.PROFILE_DIR / "customer_profile.sql"]


def test_profile_has_one_typed_column_per_active_tag_with_the_catalog_text_as_comment():
    rows = catalog.load()
    files = catalog_sync.expected_files(rows)
    sql = files[catalog_sync.PROFILE_DIR / "profile_snapshots.sql"]
    view = files[catalog_sync.PROFILE_DIR / "customer_profile.sql"]
    columns = {c["name"]: c["description"] for c in
               yaml.safe_load(files[catalog_sync.PROFILE_DIR / "_customer_profile.yml"])["models"][0]["columns"]}
    for row in rows:
        if row.is_active:
            assert f"'{row.tag_key}': '{row.value_type}'" in sql and f" {row.tag_key}" in view
            assert columns[row.tag_key].startswith(f"{row.tag_name}: {row.description}")
    assert "{{ profile_pivot({" in sql  # the pivot itself is one macro (test_macros compiles it)


def test_a_new_catalog_row_or_a_removed_one_is_a_difference():
    rows = catalog.load()
    template = next(r for r in rows if r.method == "rule")
    added = rows + [dataclasses.replace(template, tag_key="brand_new_tag")]
    assert "write models/tags/generated/tag_brand_new_tag.sql" in catalog_sync.differences(added)
    assert f"delete models/tags/generated/tag_{template.tag_key}.sql" in catalog_sync.differences(
        [r for r in rows if r is not template], [])  # no audiences: the committed ones use the removed tag


def test_catalog_validation_knows_exactly_the_documented_features():
    from orchestration.settings import PROJECT_DIR

    document = yaml.safe_load((PROJECT_DIR / "models" / "features" / "customer_features.yml").read_text())
    documented = {c["name"]: c.get("data_type") for c in document["models"][0]["columns"]}
    assert rules.feature_columns() == documented
    assert all(documented.values()), "every feature column states its ClickHouse type (data_type)"


def test_each_tag_model_carries_its_catalog_row_parsed_once():
    # the macros build tags from the model's meta: the rule with its params filled in by catalog.render_rule,
    # a score's params as numbers; nothing in dbt parses the params text again
    document = yaml.safe_load(catalog_sync.expected_files(catalog.load())[catalog_sync.GENERATED_DIR / "_tags.yml"])
    meta = {m["config"]["meta"]["tag_key"]: m["config"]["meta"] for m in document["models"] if "config" in m}
    for row in catalog_sync.built(catalog.load()):
        assert meta[row.tag_key]["owner"] == row.owner and meta[row.tag_key]["when_blocked"] == row.when_blocked
        if row.method == "rule":
            assert meta[row.tag_key]["rule"] == catalog.render_rule(row) and "{" not in meta[row.tag_key]["rule"]
    assert meta["value_score"]["params"]["w_monetary"] == 0.35


def test_dbt_docs_and_dagster_show_each_tag_as_built_with_its_params():
    from orchestration.dagster.translator import TagTranslator

    rows = {r.tag_key: r for r in catalog.load()}
    document = yaml.safe_load(catalog_sync.expected_files(catalog.load())[catalog_sync.GENERATED_DIR / "_tags.yml"])
    models = {m["name"]: m for m in document["models"]}
    vip = models["tag_vip"]
    # the description names the rule as the model applies it: a params edit shows there at the next sync
    assert f"Rule as built: `{catalog.render_rule(rows['vip'])}`." in vip["description"]
    assert "20000" in catalog.render_rule(rows["vip"])
    edited = dataclasses.replace(rows["vip"], params={**rows["vip"].params, "min_spend_365d": 25000})
    assert "spend_365d >= 25000" in catalog_sync._tag_model(edited)["description"]
    assert "Params: w_recency=0.2, " in models["tag_value_score"]["description"]
    # Dagster's asset metadata carries the same, read from the manifest's meta
    as_in_manifest = (lambda model: {**model, "columns": {c["name"]: c for c in model["columns"]}})
    metadata = TagTranslator().get_metadata(as_in_manifest(vip))
    assert metadata["rule"] == catalog.render_rule(rows["vip"]) and metadata["owner"] == rows["vip"].owner
    assert "w_monetary=0.35" in TagTranslator().get_metadata(as_in_manifest(models["tag_value_score"]))["params"]

