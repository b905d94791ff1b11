"""The tag console on a real server: a published demo night, the service served by uvicorn on a free port, users
made as an operator makes them. The API asked over HTTP (every endpoint, the roles, bad input named with nothing
written), and the web pages driven in Debian's Chromium (headless, through Playwright): list, search, detail, a
manual add and an audience preview, with a screenshot of each step kept in test-artifacts/console/."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from orchestration.audiences import audiences
from orchestration.catalog import catalog, manual_tags
from orchestration.console import accounts, api
from orchestration.warehouse import refresh_lock
from orchestration.settings import PROJECT_DIR
from tests.conftest import TAGS_COMMAND, free_port, tags_cli

ENDPOINTS = ["/api/me", "/api/tags", "/api/tags/{tag_key}", "/api/tags/{tag_key}/members",
             "/api/tags/{tag_key}/assignments", "/api/customers/{customer_id}/tags", "/api/customers/{customer_id}",
             "/api/audiences/size", "/api/audiences/preview"]
MANUAL_TAG = "influencer"
ARTIFACTS = PROJECT_DIR / "test-artifacts" / "console"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def rows(client, sql: str, **parameters) -> list[tuple]:
    return client.query(sql, parameters=parameters or None).result_rows


@pytest.fixture(scope="module")
def base_url(client, demo_night) -> Iterator[str]:
    """The API on a free port, served by uvicorn as `tags console serve` serves it."""
    port = free_port()
    served = uvicorn.Server(uvicorn.Config(api.create_app(lambda: client), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not served.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    served.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def tokens(client, demo_night) -> dict[str, str]:
    """A token per role; the viewer made by the command line, as an operator would."""
    made = tags_cli("console", "user", "add", "vera", "--role", "viewer")
    assert made.returncode == 0, made.stdout + made.stderr
    return {"viewer": made.stdout.strip().rsplit(" ", 1)[-1],
            "editor": accounts.add(client, "eddie", "editor", "test"),
            "admin": accounts.add(client, "ada", "admin", "test")}


def http(base_url: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def viewer(base_url, tokens) -> httpx.Client:
    return http(base_url, tokens["viewer"])


@pytest.fixture(scope="module")
def editor(base_url, tokens) -> httpx.Client:
    return http(base_url, tokens["editor"])


def assignments(client) -> int:
    return rows(client, "SELECT count() FROM raw.manual_tag_assignments")[0][0]


def a_customer(client) -> str:
    return rows(client, "SELECT min(customer_id) FROM tags.customer_tags WHERE tag_key = 'country'")[0][0]


def test_openapi_documents_every_endpoint_with_the_bearer_scheme(base_url):
    spec = httpx.get(f"{base_url}/openapi.json").json()
    assert sorted(spec["paths"]) == sorted(ENDPOINTS)
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            assert operation.get("security"), f"{path} documents no security"


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_every_endpoint_refuses_a_missing_or_unknown_token(base_url, tokens, token):
    with http(base_url, token) as anonymous:
        for path in ENDPOINTS:
            url = path.format(tag_key="vip", customer_id="C00000001")
            method = "POST" if path.endswith("assignments") else "GET"
            response = anonymous.request(method, url, params={"expression": "vip"},
                                         json={"action": "add", "customer_ids": ["C00000001"]})
            assert response.status_code == 401, (url, response.text)
            assert "token" in response.json()["detail"]


def test_tokens_are_stored_hashed_and_rotate_and_revoke_at_once(client, base_url, tokens):
    stored = [r[0] for r in rows(client, "SELECT token_sha256 FROM console.users")]
    assert hashlib.sha256(tokens["admin"].encode()).hexdigest() in stored
    assert not any(token in value for value in stored for token in tokens.values())
    old = accounts.add(client, "temp", "viewer", "test")
    with http(base_url, old) as temp:
        assert temp.get("/api/me").json() == {"name": "temp", "role": "viewer"}
        rotated = tags_cli("console", "user", "token", "temp")
        assert rotated.returncode == 0, rotated.stdout + rotated.stderr
        assert temp.get("/api/me").status_code == 401
    with http(base_url, rotated.stdout.strip().rsplit(" ", 1)[-1]) as renewed:
        assert renewed.get("/api/me").status_code == 200
        assert tags_cli("console", "user", "remove", "temp").returncode == 0
        assert renewed.get("/api/me").status_code == 401
    listed = tags_cli("console", "user", "list")
    assert "vera" in listed.stdout and "temp" not in listed.stdout
    duplicate = tags_cli("console", "user", "add", "vera")
    assert duplicate.returncode == 1 and "exists" in duplicate.stdout
    bad_role = tags_cli("console", "user", "add", "zed", "--role", "owner")
    assert bad_role.returncode == 1 and "viewer, editor, admin" in bad_role.stdout


def test_tag_list_searches_and_filters_the_published_catalog(client, viewer):
    everything = viewer.get("/api/tags").json()["tags"]
    published = dict(rows(client, "SELECT tag_key, member_count FROM tags.tag_catalog"))
    assert {t["tag_key"]: t["member_count"] for t in everything} == published
    found = viewer.get("/api/tags", params={"search": "VIP"}).json()["tags"]
    assert found and all("vip" in (t["tag_key"] + t["tag_name"] + t["description"]).lower() for t in found)
    assert len(found) < len(everything)
    value_rules = viewer.get("/api/tags", params={"category": "value", "method": "rule"}).json()["tags"]
    assert value_rules and {(t["category"], t["method"]) for t in value_rules} == {("value", "rule")}
    assert viewer.get("/api/tags", params={"owner": "nobody-owns-this"}).json() == {"tags": []}


def test_tag_detail_counts_its_members_and_lists_its_history(client, viewer, demo_night):
    detail = viewer.get("/api/tags/vip").json()
    members = rows(client, "SELECT count() FROM tags.customer_tags WHERE tag_key = 'vip'")[0][0]
    assert detail["member_count"] == members > 0
    assert detail["history"][-1] == {"as_of": detail["as_of"], "member_count": members,
                                     "coverage": pytest.approx(detail["coverage"])}
    assert detail["rule"] and detail["params"]


def test_members_come_in_pages_that_add_up_to_the_tag(client, viewer):
    expected = [r[0] for r in rows(client, "SELECT customer_id FROM tags.customer_tags WHERE tag_key = 'country' "
                                           "ORDER BY customer_id")]
    seen, page = [], 1
    while True:
        body = viewer.get("/api/tags/country/members", params={"page": page, "page_size": 1000}).json()
        assert body["total"] == len(expected)
        if not body["members"]:
            break
        seen += [m["customer_id"] for m in body["members"]]
        page += 1
    assert seen == expected and page == -(-len(expected) // 1000) + 1  # the last page asked is the empty one


@pytest.mark.parametrize("url, status, named", [
    ("/api/tags/no_such_tag", 404, "no_such_tag"),
    ("/api/tags/no_such_tag/members", 404, "no_such_tag"),
    ("/api/tags/VIP;drop/members", 422, "pattern"),
    ("/api/tags/vip/members?page_size=1000000", 422, "1000"),
    ("/api/tags/vip/members?page=0", 422, "greater than or equal to 1"),
    ("/api/tags/vip/members?page=x", 422, "integer"),
    ("/api/customers/C99999999/tags", 404, "C99999999"),
    ("/api/customers/bad%20id/tags", 422, "pattern"),
    ("/api/customers/" + "C" * 200, 422, "pattern"),
    ("/api/audiences/size?expression=vip%20and", 422, "ends too early"),
    ("/api/audiences/size?expression=no_such_tag", 422, "unknown tag"),
    ("/api/audiences/size", 422, "expression"),
    ("/api/audiences/preview?expression=vip&limit=100000", 422, "1000"),
])
def test_bad_input_is_named(viewer, url, status, named):
    response = viewer.get(url)
    assert response.status_code == status, response.text
    assert named in response.text


def test_a_customers_tags_are_its_published_rows(client, viewer):
    customer_id = a_customer(client)
    body = viewer.get(f"/api/customers/{customer_id}/tags").json()
    expected = rows(client, "SELECT tag_key, tag_value FROM tags.customer_tags WHERE customer_id = %(c)s "
                            "ORDER BY tag_key", c=customer_id)
    assert [(t["tag_key"], t["tag_value"]) for t in body["tags"]] == expected
    assert body["customer_id"] == customer_id and body["as_of"]
    # found through the bloom filter index the night's table was given (macros/utils/customer_lookup_index.sql)
    assert rows(client, "SELECT type FROM system.data_skipping_indices WHERE database = 'tag_store' "
                        "AND table = 'tag_snapshots' AND name = 'customer_lookup'") == [("bloom_filter",)]


def test_viewers_never_see_contact_data_and_editors_do(client, viewer, editor):
    customer_id, email = rows(client, "SELECT customer_id, email FROM staging.stg_customers "
                                      "WHERE email IS NOT NULL ORDER BY customer_id LIMIT 1")[0]
    seen = viewer.get(f"/api/customers/{customer_id}")
    assert seen.status_code == 200 and "contact" not in seen.json()
    assert email not in seen.text and "@" not in seen.text
    assert seen.json()["recent_orders"] and seen.json()["figures"]["orders_total"] >= len(seen.json()["recent_orders"])
    assert editor.get(f"/api/customers/{customer_id}").json()["contact"]["email"] == email
    points = rows(client, "SELECT loyalty_points FROM staging.stg_customers WHERE customer_id = %(c)s", c=customer_id)
    assert seen.json()["figures"]["loyalty_points"] == points[0][0]


def test_manual_assignments_record_the_user_and_show_at_once(client, viewer, editor):
    customer_id = a_customer(client)
    added = editor.post(f"/api/tags/{MANUAL_TAG}/assignments", json={"action": "add", "customer_ids": [customer_id]})
    assert added.status_code == 201, added.text
    assert added.json()["assigned_by"] == "eddie"
    written = rows(client, "SELECT action, assigned_by FROM raw.manual_tag_assignments WHERE customer_id = %(c)s "
                           "AND tag_key = %(t)s ORDER BY assigned_at DESC LIMIT 1", c=customer_id, t=MANUAL_TAG)
    assert written == [("add", "eddie")]
    assert MANUAL_TAG in {t["tag_key"] for t in viewer.get(f"/api/customers/{customer_id}/tags").json()["tags"]}
    removed = editor.post(f"/api/tags/{MANUAL_TAG}/assignments", json={"action": "remove", "customer_ids": [customer_id]})
    assert removed.status_code == 201
    assert MANUAL_TAG not in {t["tag_key"] for t in viewer.get(f"/api/customers/{customer_id}/tags").json()["tags"]}


@pytest.mark.parametrize("who, tag, body, status, named", [
    ("viewer", MANUAL_TAG, {"action": "add", "customer_ids": ["C00000001"]}, 403, "editor role"),
    ("editor", MANUAL_TAG, {"action": "add", "customer_ids": ["C00000001", "C99999999"]}, 422, "C99999999"),
    ("editor", MANUAL_TAG, {"action": "add", "customer_ids": ["C00000001", "x'); drop"]}, 422, "malformed"),
    ("editor", MANUAL_TAG, {"action": "add", "customer_ids": []}, 422, "at least 1"),
    ("editor", MANUAL_TAG, {"action": "add", "customer_ids": ["C00000001"] * 25_001}, 422, "25000"),
    ("editor", MANUAL_TAG, {"action": "tag", "customer_ids": ["C00000001"]}, 422, "'add' or 'remove'"),
    ("editor", "vip", {"action": "add", "customer_ids": ["C00000001"]}, 422, "rule tag"),
    ("editor", "no_such_tag", {"action": "add", "customer_ids": ["C00000001"]}, 404, "no_such_tag"),
])
def test_refused_assignments_write_nothing(client, viewer, editor, who, tag, body, status, named):
    before = assignments(client)
    response = {"viewer": viewer, "editor": editor}[who].post(f"/api/tags/{tag}/assignments", json=body)
    assert response.status_code == status, response.text
    assert named in response.text
    assert assignments(client) == before


def test_an_assignment_during_a_refresh_is_refused_naming_it(client, editor):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
         "os.write(fd, b'pid 1, run nightly-test'); fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); "
         "time.sleep(60)", str(refresh_lock.lock_path())], stdout=subprocess.PIPE, text=True, env=os.environ)
    try:
        assert holder.stdout.readline().strip() == "held"
        before = assignments(client)
        response = editor.post(f"/api/tags/{MANUAL_TAG}/assignments",
                               json={"action": "add", "customer_ids": [a_customer(client)]})
        assert response.status_code == 409, response.text
        assert "nightly-test" in response.json()["detail"]
        assert assignments(client) == before
    finally:
        holder.kill()
        holder.wait()


def test_audience_size_and_preview_answer_from_the_published_bitmaps(client, viewer):
    expression = "vip and not churn_risk"
    body = viewer.get("/api/audiences/size", params={"expression": expression}).json()
    expected = rows(client, "SELECT count() FROM (SELECT customer_id FROM tags.customer_tags GROUP BY customer_id "
                            "HAVING countIf(tag_key = 'vip') > 0 AND countIf(tag_key = 'churn_risk') = 0)")[0][0]
    assert body["size"] == expected == audiences.size(client, expression, catalog.load()) > 0
    assert body["customers"] == rows(client, "SELECT count() FROM tags.customer_index")[0][0]
    assert body["share"] == pytest.approx(expected / body["customers"])
    preview = viewer.get("/api/audiences/preview", params={"expression": expression, "limit": 5}).json()
    vips = {r[0] for r in rows(client, "SELECT customer_id FROM tags.customer_tags WHERE tag_key = 'vip'")}
    assert len(preview["customers"]) == 5 and all(c["customer_id"] in vips for c in preview["customers"])
    error = viewer.get("/api/audiences/size", params={"expression": "vip and"}).json()["detail"]
    assert error["column"] == 8 and error["message"] == "the expression ends too early"


def test_the_serve_command_answers_over_http(tokens):
    port = free_port()
    served = subprocess.Popen([TAGS_COMMAND, "console", "serve", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env=os.environ)
    try:
        assert f"http://127.0.0.1:{port}/api" in served.stdout.readline()
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/me",
                                     headers={"Authorization": f"Bearer {tokens['admin']}"})
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "tags console serve did not answer"
                time.sleep(0.2)
        assert response.json() == {"name": "ada", "role": "admin"}
    finally:
        served.terminate()
        served.wait(30)


# --- the web pages, in a real browser ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def signed_in(browser, base_url: str, token: str):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{base_url}/")
    assert "/login" in page.url  # no session: sent to sign in first
    page.fill("input[name=token]", token)
    page.click("button[type=submit]")
    page.wait_for_selector("#tag-list")
    return page


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def list_keys(page) -> list[str]:
    return [k.strip() for k in page.locator("#tag-list td:nth-child(2)").all_text_contents()]


def test_console_pages_list_search_detail_manual_add_and_audience_preview(client, browser, base_url, tokens):
    page = signed_in(browser, base_url, tokens["editor"])
    published = sorted(r[0] for r in rows(client, "SELECT tag_key FROM tags.tag_catalog"))
    assert list_keys(page) == published
    shot(page, "1-tag-list")

    page.fill("input[name=search]", "vip")
    page.select_option("select[name=method]", "rule")
    page.click("text=Filter")
    page.wait_for_selector("#tag-list")
    found = list_keys(page)
    assert found and all("vip" in key for key in found) and len(found) < len(published)
    shot(page, "2-search")

    page.click("a[href='/tags/vip']")
    page.wait_for_selector("#members")
    vips = rows(client, "SELECT customer_id FROM tags.customer_tags WHERE tag_key = 'vip' ORDER BY customer_id")
    assert f"{len(vips):,}" in page.text_content("#member-count")
    shown = page.locator("#members tr td:first-child").all_text_contents()
    assert shown == [r[0] for r in vips[:20]]
    points = dict(rows(client, "SELECT customer_id, loyalty_points FROM staging.stg_customers WHERE customer_id IN "
                               "%(ids)s", ids=shown))
    assert page.locator("#members tr td:nth-child(4)").all_text_contents() == [
        f"{points[c]:,}" if points[c] is not None else "" for c in shown]  # the points column
    page.click("#next-page")
    page.wait_for_selector("#members")
    assert page.locator("#members tr td:first-child").all_text_contents()[0] == vips[20][0]
    shot(page, "3-tag-detail")

    customer_id = rows(client, "SELECT max(customer_id) FROM tags.customer_tags WHERE customer_id NOT IN "
                               "(SELECT customer_id FROM tags.customer_tags WHERE tag_key = %(t)s)", t=MANUAL_TAG)[0][0]
    page.goto(f"{base_url}/tags/{MANUAL_TAG}")
    page.fill("#add-form textarea", customer_id)
    page.click("#add-form button")
    page.wait_for_selector("#notice")
    assert page.text_content("#notice") == f"1 customer(s) added to {MANUAL_TAG}"
    assert rows(client, "SELECT assigned_by FROM raw.manual_tag_assignments WHERE customer_id = %(c)s "
                        "AND tag_key = %(t)s", c=customer_id, t=MANUAL_TAG) == [("eddie",)]
    assert customer_id in page.locator("#members").text_content()
    shot(page, "4-manual-add")

    page.fill("#add-form textarea", "C99999999")
    page.click("#add-form button")
    page.wait_for_selector("#error")
    assert "C99999999" in page.text_content("#error") and "nothing was written" in page.text_content("#error")

    expression = "vip and country in ('DE', 'FR') and not churn_risk"
    page.goto(f"{base_url}/audience")
    page.type("#expression", expression, delay=5)  # typed, as a person does: the size follows the text
    page.wait_for_function("document.querySelector('#size') && document.querySelector('#expression').value.endsWith('churn_risk')")
    page.wait_for_timeout(600)
    size = audiences.size(client, expression, catalog.load())
    assert page.text_content("#size").startswith(f"{size:,} customers")
    assert page.locator("#preview tr").count() == min(size, 10) + 1
    live = rows(client, "SELECT count() FROM audiences.audience_catalog WHERE status = 'live'")[0][0]
    assert page.locator("#overlaps tr").count() == live + 1
    shot(page, "5-audience-preview")

    page.fill("#expression", "vip and")
    page.wait_for_selector("#parse-error")
    assert "the expression ends too early" in page.text_content("#parse-error")
    shot(page, "6-audience-error")
    page.close()


def test_viewers_see_no_forms_and_forged_posts_are_refused(client, browser, base_url, tokens):
    catalog_before = catalog.CATALOG_FILE.read_bytes()
    page = signed_in(browser, base_url, tokens["viewer"])
    page.goto(f"{base_url}/tags/{MANUAL_TAG}")
    assert page.locator("#add-form").count() == 0 and page.locator("#members button").count() == 0
    before = assignments(client)
    forged = page.request.post(f"{base_url}/tags/{MANUAL_TAG}/assignments",
                               form={"action": "add", "customer_ids": "C00000001", "csrf": "forged"})
    assert forged.status == 403 and "CSRF" in forged.text()
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")  # the sign-out form's: the session's own
    as_viewer = page.request.post(f"{base_url}/tags/{MANUAL_TAG}/assignments",
                                  form={"action": "add", "customer_ids": "C00000001", "csrf": csrf})
    assert as_viewer.status == 403 and "editor role" in as_viewer.text()
    created = page.request.post(f"{base_url}/new-tag", form={"tag_key": "viewer_tag", "attribute": "viewer tag",
                                                            "category": "attribute", "owner": "vera",
                                                            "description": "Made by a viewer.", "csrf": csrf})
    assert created.status == 403 and "editor role" in created.text()
    assert page.goto(f"{base_url}/new-tag").status == 403
    page.close()
    editor = signed_in(browser, base_url, tokens["editor"])
    forged = editor.request.post(f"{base_url}/tags/{MANUAL_TAG}/assignments",
                                 form={"action": "add", "customer_ids": "C00000001", "csrf": "forged"})
    assert forged.status == 403
    assert assignments(client) == before and catalog.CATALOG_FILE.read_bytes() == catalog_before
    editor.close()


def test_a_revoked_token_ends_the_session_at_once(client, browser, base_url):
    token = accounts.add(client, "brief", "viewer", "test")
    page = signed_in(browser, base_url, token)
    accounts.remove(client, "brief", "test")
    page.goto(f"{base_url}/tags/vip")
    assert "/login" in page.url
    page.close()


def test_a_refused_new_tag_leaves_the_catalog_as_it_was(browser, base_url, tokens):
    before = catalog.CATALOG_FILE.read_bytes()
    page = signed_in(browser, base_url, tokens["editor"])
    page.goto(f"{base_url}/new-tag")
    page.fill("input[name=tag_key]", "event_guest")
    page.fill("input[name=attribute]", "guest of the summer opening")
    page.fill("textarea[name=description]", "Guests of the summer store opening.")
    page.click("#new-tag button")
    page.wait_for_selector("#error")
    assert "at most 20" in page.text_content("#error") and "not changed" in page.text_content("#error")
    assert catalog.CATALOG_FILE.read_bytes() == before
    shot(page, "7-new-tag-refused")
    page.close()


def test_a_manual_tag_is_created_as_a_valid_catalog_row(tmp_path):
    path = tmp_path / "tag_catalog.csv"
    path.write_bytes(catalog.CATALOG_FILE.read_bytes())
    row = manual_tags.create("event_guest", "event guest", "attribute", "crm-team",
                             "Guests of the store opening,\n picked by hand.", "eddie", path)
    assert (row.tag_name, row.method, row.value_type, row.updated_by) == ("attr-event guest", "manual", "flag", "eddie")
    assert row.description == "Guests of the store opening, picked by hand."
    with pytest.raises(manual_tags.ManualTagError, match="duplicate tag_key"):
        manual_tags.create("event_guest", "other", "attribute", "crm-team", "Again.", "eddie", path)
    with pytest.raises(manual_tags.ManualTagError, match="description is required"):
        manual_tags.create("event_host", "host", "attribute", "crm-team", "  ", "eddie", path)
    assert [r.tag_key for r in catalog.load(path)].count("event_guest") == 1


@pytest.mark.parametrize("target, landed", [("/tags/vip?page=2", "/tags/vip?page=2"), ("//evil.example", "/"),
                                            ("/\\evil.example", "/"), ("https://evil.example/", "/")])
def test_signing_in_goes_back_only_to_a_page_of_the_console(base_url, tokens, target, landed):
    import re

    with httpx.Client(base_url=base_url) as anonymous:
        form = anonymous.get("/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        wrong = anonymous.post("/login", data={"token": "not-a-token", "next": "/", "csrf": csrf})
        assert wrong.status_code == 303 and wrong.headers["location"].startswith("/login?error=")
        answer = anonymous.post("/login", data={"token": tokens["viewer"], "next": target, "csrf": csrf})
        assert answer.status_code == 303 and answer.headers["location"] == landed
