"""Usage that counts real use, the fewer-than-3-uses zombie rule, and archiving a zombie (issue 22): on one demo
night, uses made by an export, a BI user and the console; then a zombie archived with `tags catalog archive` and the
next night built without it."""

import csv
import datetime as dt

import clickhouse_connect
import pytest

from orchestration.audiences import exports
from orchestration.catalog import catalog, catalog_sync
from orchestration.console import api
from orchestration.dagster import refresh
from orchestration.quality import hygiene
from orchestration.warehouse import bi_access
from tests.conftest import BI_TEST_PASSWORD, tags_cli
from tests.integration.known import AS_OF

DAY_2 = AS_OF + dt.timedelta(days=1)
# a whole window after the demo night's first publication, so every tag is judged; the window starts on AS_OF
JUDGED = AS_OF + dt.timedelta(days=hygiene.USAGE_DAYS)
ZOMBIE = "loyal_customer"  # named by no audience


def rows(client, sql: str, **parameters) -> list[tuple]:
    return client.query(sql, parameters=parameters or None).result_rows


@pytest.fixture(scope="module")
def used(demo_night, client, server, tmp_path_factory):
    """One export of payment_reminder (awaiting_payment), one BI query and one console query naming vip, and
    pipeline queries naming the zombie (not use); then the measure a whole window after the night."""
    exports.export_audience(client, "payment_reminder", "csv", tmp_path_factory.mktemp("export") / "reminder.csv")
    bi = clickhouse_connect.get_client(host="127.0.0.1", port=server.http_port, username=bi_access.BI_USER,
                                       password=BI_TEST_PASSWORD)
    bi.command("SELECT count() FROM tags.customer_profile WHERE vip")
    api._shared_client.__dict__.pop("client", None)  # the console's own client, made afresh for this server
    try:
        api._shared_client().command("SELECT count() FROM tags.customer_tags WHERE tag_key = 'vip'")
    finally:
        api._shared_client.__dict__.pop("client", None)
    client.command(f"SELECT count() FROM tags.customer_tags WHERE tag_key = '{ZOMBIE}'")  # the pipeline's user
    client.command("SYSTEM FLUSH LOGS")
    return hygiene.measure(client, catalog.load(), JUDGED)


def test_audiences_built_exports_and_bi_and_console_queries_are_uses_per_tag_and_user(used):
    by_tag = {}
    for use in used.uses:
        by_tag.setdefault(use.tag_key, []).append((use.kind, use.user, use.uses))
    # payment_reminder (owner crm) was built on the night and exported once
    assert by_tag["awaiting_payment"] == [("audience", "crm", 1), ("export", "crm", 1)]
    # vip_churn_rescue (owner crm) was built; a BI user and the console named vip
    assert by_tag["vip"] == [("audience", "crm", 1), ("query", "bi_reader", 1), ("query", "console", 1)]
    # champions_de_fr (owner marketing) names two tags: each had the night's build
    assert by_tag["rfm_segment"] == by_tag["country"] == [("audience", "marketing", 1)]
    # the expired audience was not built, and the pipeline's own queries are not use
    assert "campaign_responded" not in by_tag and ZOMBIE not in by_tag
    assert used.used == sorted(by_tag) and used.usage_rate == pytest.approx(len(by_tag) / used.total_active)
    assert dict((f, v) for f, v, _, _ in used.figures())["tag_uses"] == sum(u.uses for u in used.uses)


def test_a_tag_with_fewer_than_three_uses_is_a_zombie(used, client):
    zombies = {key: (uses, suggestion) for key, members, uses, days, suggestion in used.zombies}
    assert zombies["awaiting_payment"][0] == 2 and zombies[ZOMBIE][0] == 0
    assert "vip" not in zombies  # three uses
    assert set(zombies) == {r.tag_key for r in catalog.load() if r.is_active and used.uses_of(r.tag_key) < 3}
    # over 50 members: archive suggested (the demo's loyal customers)
    members = rows(client, "SELECT member_count FROM tags.tag_catalog WHERE tag_key = %(k)s", k=ZOMBIE)[0][0]
    assert members > hygiene.ARCHIVE_MEMBERS and zombies[ZOMBIE][1] == "archive"


@pytest.mark.slow
def test_an_archived_zombie_is_no_longer_built_and_its_change_is_logged(used, client):
    shipped = catalog.CATALOG_FILE.read_text()
    model = catalog_sync.GENERATED_DIR / f"{catalog_sync.model_name(ZOMBIE)}.sql"
    others = sorted(r.tag_key for r in catalog.load() if r.is_active and r.tag_key != ZOMBIE)
    try:
        refused = tags_cli("catalog", "archive", "awaiting_payment")
        archived = tags_cli("catalog", "archive", ZOMBIE, "--by", "ana")
        after_archive = catalog.CATALOG_FILE.read_text()
        night = tags_cli("refresh", "--as-of", DAY_2.isoformat())
        model_left = model.exists()
    finally:
        catalog.CATALOG_FILE.write_text(shipped)
        refresh.prepare(catalog.load(), DAY_2)  # its files synced back and dbt's manifest parsed, for later modules
    assert refused.returncode == 1 and "audiences still use it: payment_reminder (live" in refused.stdout
    assert archived.returncode == 0, archived.stdout + archived.stderr
    (row,) = [r for r in csv.DictReader(after_archive.splitlines()) if r["tag_key"] == ZOMBIE]
    assert (row["status"], row["updated_by"], row["updated_at"]) == ("archived", "ana", dt.date.today().isoformat())
    assert night.returncode == 0, night.stdout + night.stderr
    assert not model_left
    assert rows(client, "SELECT as_of FROM tags.published_run") == [(DAY_2,)]
    assert rows(client, "SELECT count() FROM tags.customer_tags WHERE tag_key = %(k)s", k=ZOMBIE) == [(0,)]
    assert rows(client, "SELECT count() FROM tags.tag_catalog WHERE tag_key = %(k)s AND status = 'active'", k=ZOMBIE) == [(0,)]
    assert sorted(k for (k,) in rows(client, "SELECT tag_key FROM tags.tag_catalog WHERE status = 'active'")) == others
    assert rows(client, "SELECT count() FROM system.columns WHERE database = 'tags' AND table = 'customer_profile' "
                        "AND name = %(k)s", k=ZOMBIE) == [(0,)]
    assert rows(client, "SELECT change, field, old_value, new_value, updated_by FROM tags.catalog_changes "
                        "WHERE as_of = %(d)s AND tag_key = %(k)s", d=DAY_2, k=ZOMBIE) == [
        ("changed", "status", "active", "archived", "ana")]
