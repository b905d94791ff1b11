"""`tags catalog archive|merge` on a copy of the shipped catalog: what they write, and each refusal naming what is
wrong (the file then unchanged). That an archived tag is no longer built is tests/integration/test_usage.py."""

import datetime as dt

import pytest

from orchestration.catalog import catalog, catalog_edits

TODAY = dt.date(2026, 12, 6)


@pytest.fixture
def path(tmp_path):
    copy = tmp_path / "tag_catalog.csv"
    copy.write_bytes(catalog.CATALOG_FILE.read_bytes())
    return copy


def by_key(path):
    return {r.tag_key: r for r in catalog.load(path)}


def test_archive_sets_status_who_and_when_and_leaves_every_other_line_as_it_was(path):
    before = path.read_text().splitlines()
    row = catalog_edits.archive("loyal_customer", "ana", path, TODAY)
    assert (row.status, row.updated_by, row.updated_at) == ("archived", "ana", TODAY)
    after = path.read_text().splitlines()
    changed = [i for i, (old, new) in enumerate(zip(before, after)) if old != new]
    assert len(after) == len(before) and changed == [row.row_number - 1]
    assert by_key(path)["loyal_customer"] == row


def test_merge_archives_the_tag_with_a_pointer_to_the_one_it_went_into(path):
    old = by_key(path)["high_frequency_customer"]
    row = catalog_edits.merge("high_frequency_customer", "high_frequency_buyer", "ana", path, TODAY)
    assert row.status == "archived" and row.description == f"Merged into high_frequency_buyer. {old.description}"
    assert (row.updated_by, row.updated_at) == ("ana", TODAY)
    assert by_key(path)["high_frequency_buyer"].is_active


@pytest.mark.parametrize("edit, message", [
    (lambda p: catalog_edits.archive("no_such_tag", "ana", p), "no tag 'no_such_tag' in seeds/tag_catalog.csv"),
    (lambda p: catalog_edits.archive("awaiting_payment", "ana", p),
     "tag 'awaiting_payment' cannot be archived: audiences still use it: payment_reminder (live, "
     "seeds/audiences.csv line 2)"),
    # black_friday_2026 has expired, but every audience is checked against the active tags
    (lambda p: catalog_edits.archive("campaign_responded", "ana", p), "black_friday_2026 (expired, "),
    (lambda p: catalog_edits.archive("loyal_customer", " ", p), "say who makes the change (--by)"),
    (lambda p: catalog_edits.merge("vip", "rfm_segment", "ana", p),
     "cannot merge 'vip' (flag) into 'rfm_segment' (label): only tags of the same value_type merge"),
    (lambda p: catalog_edits.merge("vip", "vip", "ana", p), "cannot merge 'vip' into itself"),
    (lambda p: catalog_edits.merge("vip", "no_such_tag", "ana", p), "no tag 'no_such_tag'"),
    (lambda p: catalog_edits.merge("price_sensitive", "highly_engaged", "ana", p),
     "tag 'price_sensitive' cannot be merged into 'highly_engaged': audiences still use it: high_value_score (live, "),
])
def test_refusals_name_what_is_wrong_and_change_nothing(path, edit, message):
    before = path.read_bytes()
    with pytest.raises(catalog_edits.CatalogEditError) as refused:
        edit(path)
    assert message in str(refused.value)
    assert path.read_bytes() == before


def test_nothing_is_archived_twice_nor_merged_into_an_archived_tag(path):
    catalog_edits.archive("loyal_customer", "ana", path, TODAY)
    with pytest.raises(catalog_edits.CatalogEditError, match=r"'loyal_customer' is already archived \(catalog line \d+\)"):
        catalog_edits.archive("loyal_customer", "ana", path)
    with pytest.raises(catalog_edits.CatalogEditError, match="cannot merge into 'loyal_customer': it is archived"):
        catalog_edits.merge("high_frequency_customer", "loyal_customer", "ana", path)


def test_an_edit_that_would_make_the_catalog_invalid_is_not_written(path):
    text = path.read_text()
    with pytest.raises(catalog_edits.CatalogEditError, match="the catalog was not changed"):
        catalog_edits.replace(text.replace("loyal_customer,", "loyal_customer,lifecycle-with a name far too long,", 1),
                              path)
    assert path.read_text() == text
