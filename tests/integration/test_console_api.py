"""The console's HTTP API on a real server: a published demo night, the API served by uvicorn on a free port and
asked over HTTP, users made as an operator makes them. Every endpoint, the roles, and bad input named with nothing
written."""

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
from orchestration.catalog import catalog
from orchestration.console import accounts, api
from orchestration.warehouse import refresh_lock
from tests.conftest import TAGS_COMMAND, free_port, tags_cli

ENDPOINTS = ["/api/me", "/api/tags", "/api/tags/{tag_key}", "/api/tags/{tag_key}/members",
             "/api/tags/{tag_key}/assignments", "/api/customers/{customer_id}/tags", "/api/customers/{customer_id}",
             "/api/audiences/size", "/api/audiences/preview"]
MANUAL_TAG = "influencer"


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
    assert detail["history"][-1] == {"as_of": detail["as_of"], "member_count": members}
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


def test_viewers_never_see_contact_data_and_editors_do(client, viewer, editor):
    customer_id, email = rows(client, "SELECT customer_id, email FROM staging.stg_customers "
                                      "WHERE email IS NOT NULL ORDER BY customer_id LIMIT 1")[0]
    seen = viewer.get(f"/api/customers/{customer_id}")
    assert seen.status_code == 200 and "contact" not in seen.json()
    assert email not in seen.text and "@" not in seen.text
    assert seen.json()["recent_orders"] and seen.json()["figures"]["orders_total"] >= len(seen.json()["recent_orders"])
    assert editor.get(f"/api/customers/{customer_id}").json()["contact"]["email"] == email


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
