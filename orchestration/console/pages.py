"""The console's web pages, server-rendered (Jinja2): the tag list, a tag's detail with its members, manual tags
(created, customers added and removed by hand), the audience builder and an audience export's campaign impact.

A person signs in with their console token once; the session (a signed cookie, SameSite=strict) keeps the token's
hash, so every page re-checks the user and a revoked token ends the session at once. Every form carries the
session's CSRF token, compared before anything is written.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from orchestration import settings
from orchestration.audiences import audiences, impact
from orchestration.audiences.audience_expression import ExpressionError
from orchestration.catalog import catalog, manual_tags
from orchestration.console import accounts, queries
from orchestration.warehouse import refresh_lock

TEMPLATES = Jinja2Templates(directory=Path(__file__).with_name("templates"))
PAGE_SIZE = 20
BUILD_LOGS = settings.PROJECT_DIR / "logs" / "console"
SECRET_FILE = settings.PROJECT_DIR / ".console-secret"
SECRET_VARIABLE = "TAGS_CONSOLE_SECRET"
MIN_SECRET_LENGTH = 32
# The service answers on worker threads; its writes (manual assignments, new catalog rows) go one at a time, so two
# requests never share the process's hold on the refresh lock nor write the catalog file together.
WRITES = threading.Lock()
# One colour per category: a tag's chip in every list, so a glance tells value tags from service tags.
COLOURS = {"value": "#b8860b", "lifecycle": "#2e7d32", "interest": "#6a1b9a", "engagement": "#0277bd",
           "transaction": "#ef6c00", "service": "#c62828", "source": "#546e7a", "attribute": "#00897b",
           "score": "#4527a0"}


def session_secret() -> str:
    """The key that signs session cookies: TAGS_CONSOLE_SECRET, else one generated once into .console-secret (created
    whole or not at all). A key shorter than MIN_SECRET_LENGTH is refused: a session holds a token's hash, and only
    the key keeps anyone from signing one."""
    secret = os.environ.get(SECRET_VARIABLE, "")
    if not secret:
        if not SECRET_FILE.exists():
            staged = SECRET_FILE.with_name(f".console-secret.{os.getpid()}")
            with open(os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
                out.write(secrets.token_urlsafe(48))
                out.flush()
                os.fsync(out.fileno())
            os.replace(staged, SECRET_FILE)
        secret = SECRET_FILE.read_text().strip()
    if len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"the console's session key ({SECRET_VARIABLE} or {SECRET_FILE}) has {len(secret)} "
                         f"characters; it needs at least {MIN_SECRET_LENGTH} (delete the file to have one generated)")
    return secret


def sparkline(values: list[float], width: int = 120, height: int = 24) -> str:
    """An inline SVG polyline of the values (coverage per night), scaled to its own range."""
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = width / max(len(values) - 1, 1)
    points = " ".join(f"{i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}" for i, v in enumerate(values))
    return (f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="coverage per night"><polyline fill="none" stroke="currentColor" stroke-width="1.5" '
            f'points="{points}"/></svg>')


def interval_bar(lift: impact.Lift, low: float, high: float, width: int = 220, height: int = 18) -> str:
    """An inline SVG of a lift's 95% interval (a bar) and estimate (a dot) on the axis low..high, with zero marked:
    a bar clear of the zero line is an effect the data shows; one across it is not."""
    span = (high - low) or 1.0

    def x(value: float) -> float:
        return 4 + (min(max(value, low), high) - low) / span * (width - 8)
    colour = "#8a939c"
    parts = [f'<line x1="{x(0):.1f}" y1="1" x2="{x(0):.1f}" y2="{height - 1}" stroke="#1d2329" stroke-dasharray="2,2"/>']
    if lift.absolute_ci:
        start, end = lift.absolute_ci
        colour = "#2e7d32" if start > 0 else "#c62828" if end < 0 else colour
        parts.append(f'<line x1="{x(start):.1f}" y1="{height / 2}" x2="{x(end):.1f}" y2="{height / 2}" '
                     f'stroke="{colour}" stroke-width="6" stroke-linecap="round" opacity=".45"/>')
    parts.append(f'<circle cx="{x(lift.absolute):.1f}" cy="{height / 2}" r="4" fill="{colour}"/>')
    return (f'<svg class="interval" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="lift and its 95% interval">{"".join(parts)}</svg>')


def axis(lifts: list[impact.Lift]) -> tuple[float, float]:
    """One axis for a column of interval bars: every interval and zero inside it."""
    ends = [0.0, *(e for lift in lifts for e in (lift.absolute_ci or (lift.absolute, lift.absolute)))]
    return min(ends), max(ends)


def assign_by_hand(client, user: accounts.User, action: str, tag_key: str, customer_ids: list[str]) -> int:
    """A manual tag added or removed by a console user (pages and API alike): one write at a time, under the
    warehouse's refresh lock (a refresh counts raw rows at its start and end: an append between would break its
    accounting), recorded under the user's name."""
    with WRITES, refresh_lock.held(f"console {user.name}: {action} {tag_key}"):
        return manual_tags.assign(client, catalog.load(), action, tag_key, customer_ids, assigned_by=user.name)


def local_path(target: str) -> str:
    """Where to go after signing in: a path of this site only (not //host or /\\host, which browsers take for
    another site), else the tag list."""
    return target if target.startswith("/") and target[1:2] not in ("/", "\\") else "/"


class SignIn(Exception):
    """No valid session: the page sends the person to sign in."""


def router(client_factory) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    def user_of(request: Request) -> accounts.User:
        digest = request.session.get("token_sha256")
        user = accounts.authenticate_digest(client_factory(), digest) if digest else None
        if user is None:
            request.session.clear()
            raise SignIn(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return user

    def csrf_token(request: Request) -> str:
        if "csrf" not in request.session:
            request.session["csrf"] = secrets.token_urlsafe(32)
        return request.session["csrf"]

    def check_csrf(request: Request, token: str) -> None:
        if not secrets.compare_digest(token, request.session.get("csrf", "")):
            raise HTTPException(403, "the form's CSRF token does not match this session: reload the page and submit again")

    def render(request: Request, template: str, user: accounts.User | None, **context) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(request, template, {
            "user": user, "csrf": csrf_token(request), "colours": COLOURS, "sparkline": sparkline, **context})

    @pages.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/", error: str = ""):
        return render(request, "login.html", None, next=next, error=error)

    @pages.post("/login")
    def login(request: Request, token: str = Form(...), next: str = Form("/"), csrf: str = Form(...)):
        check_csrf(request, csrf)
        user = accounts.authenticate(client_factory(), token.strip())
        if user is None:
            return RedirectResponse(f"/login?error=unknown+or+revoked+token&next={quote(next)}", status_code=303)
        request.session.clear()
        request.session["token_sha256"] = accounts.hash_token(token.strip())
        return RedirectResponse(local_path(next), status_code=303)

    @pages.post("/logout")
    def logout(request: Request, csrf: str = Form(...)):
        check_csrf(request, csrf)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @pages.get("/", response_class=HTMLResponse)
    def tag_list(request: Request, search: str = Query("", max_length=200), category: str = "", method: str = "",
                 owner: str = "", status: str = ""):
        user = user_of(request)
        client = client_factory()
        chosen = {"category": category, "method": method, "owner": owner, "status": status}
        everything = queries.tag_list(client)
        shown = queries.tag_list(client, search, **chosen)
        options = {column: sorted({t[column] for t in everything}) for column in queries.LIST_FILTERS}
        return render(request, "tags.html", user, tags=shown, total=len(everything), search=search, chosen=chosen,
                      options=options, history=queries.coverage_history(client))

    @pages.get("/tags/{tag_key}", response_class=HTMLResponse)
    def tag_detail(request: Request, tag_key: str, page: int = Query(1, ge=1, le=1_000_000), notice: str = "",
                   error: str = ""):
        user = user_of(request)
        client = client_factory()
        try:
            tag = queries.tag(client, tag_key)
        except queries.NotFound:
            row = next((r for r in catalog.load() if r.tag_key == tag_key), None)
            if row is None:
                raise HTTPException(404, f"no tag {tag_key!r} in the catalog") from None
            return render(request, "tag_pending.html", user, row=row, log=_build_log(tag_key))
        found = queries.members(client, tag_key, page, PAGE_SIZE)
        details = queries.member_details(client, [m["customer_id"] for m in found.rows])
        return render(request, "tag.html", user, tag=tag, page=found, details=details, notice=notice, error=error,
                      pages=max(1, -(-found.total // PAGE_SIZE)))

    @pages.post("/tags/{tag_key}/assignments")
    def assign(request: Request, tag_key: str, action: str = Form(...), customer_ids: str = Form(""),
               csrf: str = Form(...)):
        user = user_of(request)
        check_csrf(request, csrf)
        if not user.can("editor"):
            raise HTTPException(403, f"user {user.name!r} is a {user.role}; adding and removing needs the editor role")
        ids = customer_ids.replace(",", " ").split()
        try:
            written = assign_by_hand(client_factory(), user, action, tag_key, ids)
        except (manual_tags.ManualTagError, refresh_lock.RefreshRunning) as exc:
            return RedirectResponse(f"/tags/{quote(tag_key)}?error={quote(str(exc))}", status_code=303)
        done = "added to" if action == "add" else "removed from"
        return RedirectResponse(f"/tags/{quote(tag_key)}?notice={quote(f'{written} customer(s) {done} {tag_key}')}",
                                status_code=303)

    @pages.get("/new-tag", response_class=HTMLResponse)
    def new_tag_form(request: Request, error: str = ""):
        user = user_of(request)
        if not user.can("editor"):
            raise HTTPException(403, f"user {user.name!r} is a {user.role}; creating a tag needs the editor role")
        return render(request, "new_tag.html", user, categories=list(catalog.CATEGORIES), prefixes=catalog.CATEGORIES,
                      error=error, max_name=catalog.MAX_TAG_NAME_LENGTH)

    @pages.post("/new-tag")
    def new_tag(request: Request, tag_key: str = Form(...), attribute: str = Form(...), category: str = Form(...),
                owner: str = Form(...), description: str = Form(""), csrf: str = Form(...)):
        user = user_of(request)
        check_csrf(request, csrf)
        if not user.can("editor"):
            raise HTTPException(403, f"user {user.name!r} is a {user.role}; creating a tag needs the editor role")
        try:
            with WRITES:
                row = manual_tags.create(tag_key, attribute, category, owner, description, user.name)
        except manual_tags.ManualTagError as exc:
            return RedirectResponse(f"/new-tag?error={quote(str(exc))}", status_code=303)
        _start_build(row.tag_key)
        return RedirectResponse(f"/tags/{quote(row.tag_key)}", status_code=303)

    @pages.get("/audience", response_class=HTMLResponse)
    def audience_builder(request: Request, expression: str = ""):
        user = user_of(request)
        return render(request, "audience.html", user, expression=expression,
                      tags=[t["tag_key"] for t in queries.tag_list(client_factory(), status="active")])

    @pages.get("/audience/size")
    def audience_size(request: Request, expression: str = Query("", max_length=2000)):
        """What the builder shows as the expression is typed: size, share, overlap with live audiences, or the error."""
        user_of(request)
        client, rows = client_factory(), catalog.load()
        try:
            size = audiences.size(client, expression, rows)
            overlaps = audiences.overlap_with_live(client, expression, rows)
            preview = audiences.preview(client, expression, rows, 10)
        except ExpressionError as exc:
            return JSONResponse({"error": exc.as_dict()})
        customers = audiences.customer_count(client)
        return JSONResponse({"size": size, "customers": customers, "share": size / customers if customers else 0.0,
                             "overlaps": [{"audience_key": k, "audience_size": n, "shared": s} for k, n, s in overlaps],
                             "preview": [dict(zip(preview[0], map(str, row))) for row in preview[1]]})

    @pages.get("/audiences/{audience_key}/impact", response_class=HTMLResponse)
    def audience_impact(request: Request, audience_key: str, export: str | None = Query(None, max_length=64),
                        window_days: int = Query(impact.DEFAULT_WINDOW_DAYS, ge=1, le=3650)):
        """Campaign impact of an export with a holdout (default the audience's latest): treated against holdout."""
        user = user_of(request)
        client = client_factory()
        try:
            found = impact.measure(client, audience_key, export, window_days)
        except impact.ImpactError as exc:
            raise HTTPException(404, str(exc)) from None
        rows = [found.overall, *found.segments]
        return render(request, "impact.html", user, impact=found, rows=rows, describe=impact.describe,
                      exports=impact.exports_with_holdout(client, audience_key), interval_bar=interval_bar,
                      conversion_axis=axis([c.conversion for c in rows]),
                      revenue_axis=axis([c.revenue_per_customer for c in rows]), small=impact.SMALL_GROUP)

    return pages


def _build_log(tag_key: str) -> str:
    logs = sorted(BUILD_LOGS.glob(f"{tag_key}-*.log"))
    return logs[-1].read_text()[-4000:] if logs else ""


def _start_build(tag_key: str) -> None:
    """`tags refresh --select KEY` in the background: the new tag built alone onto the published night; its page
    shows the log until the tag is published."""
    BUILD_LOGS.mkdir(parents=True, exist_ok=True)
    log = BUILD_LOGS / f"{tag_key}-{dt.datetime.now():%Y%m%dT%H%M%S}.log"
    with log.open("w") as out:
        subprocess.Popen([str(Path(sys.executable).with_name("tags")), "refresh", "--select", tag_key],
                         stdout=out, stderr=subprocess.STDOUT, cwd=settings.PROJECT_DIR, start_new_session=True)
