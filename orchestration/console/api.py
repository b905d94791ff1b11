"""The HTTP API of the tag console (`tags console`): tags and their members, a customer's tags, manual assignments
and audience sizes, documented by OpenAPI at /openapi.json.

Every request names its user with `Authorization: Bearer <token>` (orchestration/console/accounts.py); a missing or
unknown token is 401, a role too low 403. Bad input is answered with the HTTP status that says what kind it is
(404 unknown tag or customer, 409 a refresh is writing, 422 a value out of range) and a `detail` that names it;
nothing is written unless everything asked was valid.
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from orchestration.audiences import audiences
from orchestration.audiences.audience_expression import ExpressionError
from orchestration.catalog import catalog, manual_tags
from orchestration.console import accounts, pages, queries
from orchestration.quality import hygiene
from orchestration.warehouse import db, refresh_lock

# Customer ids and tag keys are short printable text: anything else is refused before the warehouse is asked.
CUSTOMER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,63}$")
TAG_KEY = r"^[a-z][a-z0-9_]{0,63}$"
MAX_ASSIGNED = 25_000
SECURE_COOKIE_VARIABLE = "TAGS_CONSOLE_SECURE_COOKIE"  # 1: the session cookie is sent over HTTPS only

TagKey = Annotated[str, Path(pattern=TAG_KEY, description="A tag key of the catalog, e.g. vip.")]
CustomerId = Annotated[str, Path(pattern=CUSTOMER_ID.pattern, description="A customer id, e.g. C00000042.")]
Expression = Annotated[str, Query(min_length=1, max_length=2000,
                                  description="Tags combined with and / or / not, e.g. vip and not churn_risk.")]

_bearer = HTTPBearer(auto_error=False, description="A console user's token (`tags console user add`).")


class Assignment(BaseModel):
    action: Literal["add", "remove"] = Field(description="add: give the manual tag; remove: take it away.")
    customer_ids: list[str] = Field(min_length=1, max_length=MAX_ASSIGNED, description="Customer ids.")


def _shared_client():
    """One warehouse client for the service: its HTTP pool is thread-safe, and no query relies on a session. Its
    queries carry the console's log comment: they are use of the tags they name (orchestration/quality/hygiene.py)."""
    if not hasattr(_shared_client, "client"):
        _shared_client.client = db.client(log_comment=hygiene.CONSOLE_LOG_COMMENT)
    return _shared_client.client


def current_user(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> accounts.User:
    if credentials is None:
        raise HTTPException(401, "no token: send `Authorization: Bearer <token>` (`tags console user add` makes one)",
                            headers={"WWW-Authenticate": "Bearer"})
    user = accounts.authenticate(request.app.state.client(), credentials.credentials)
    if user is None:
        raise HTTPException(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
    return user


def role(needed: str):
    """A dependency: the current user, who must have at least role `needed`."""
    def check(user: accounts.User = Depends(current_user)) -> accounts.User:
        if not user.can(needed):
            raise HTTPException(403, f"user {user.name!r} is a {user.role}; this needs the {needed} role")
        return user
    return check


Viewer = Annotated[accounts.User, Depends(role("viewer"))]
Editor = Annotated[accounts.User, Depends(role("editor"))]


def create_app(client_factory=_shared_client) -> FastAPI:
    app = FastAPI(title="Customer tags console API", version="1",
                  description="Published customer tags, their members, manual tags and audience sizes.",
                  docs_url=None, redoc_url=None)  # the interactive pages load scripts from a CDN; /openapi.json is the doc
    app.state.client = client_factory
    # the web pages' session: a signed cookie the browser sends only to this site's own pages and requests
    app.add_middleware(SessionMiddleware, secret_key=pages.session_secret(), session_cookie="tags_console",
                       same_site="strict", max_age=12 * 3600,
                       https_only=os.environ.get(SECURE_COOKIE_VARIABLE) == "1")  # behind TLS: set it to 1
    app.include_router(pages.router(client_factory))

    @app.exception_handler(pages.SignIn)
    def sign_in(_request: Request, exc: pages.SignIn) -> RedirectResponse:
        return RedirectResponse(f"/login?next={quote(str(exc))}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        """The API answers JSON; a page answers a page that says the same."""
        if request.url.path.startswith("/api") or request.url.path == "/openapi.json":
            return await http_exception_handler(request, exc)
        return pages.TEMPLATES.TemplateResponse(request, "error.html", {
            "user": None, "csrf": "", "status": exc.status_code, "detail": exc.detail}, status_code=exc.status_code)

    @app.exception_handler(queries.NotFound)
    def not_found(_request: Request, exc: queries.NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(ExpressionError)
    def bad_expression(_request: Request, exc: ExpressionError) -> JSONResponse:
        return JSONResponse({"detail": exc.as_dict()}, status_code=422)

    @app.exception_handler(db.WarehouseUnreachable)
    def unreachable(_request: Request, exc: db.WarehouseUnreachable) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.get("/api/me", summary="The user the token belongs to")
    def me(user: Viewer) -> dict:
        return {"name": user.name, "role": user.role}

    @app.get("/api/tags", summary="Published tags, filtered")
    def tag_list(user: Viewer, search: Annotated[str, Query(max_length=200)] = "",
                 category: str = "", method: str = "", owner: str = "", status: str = "") -> dict:
        rows = queries.tag_list(app.state.client(), search, category=category, method=method, owner=owner,
                                status=status)
        return {"tags": rows}

    @app.get("/api/tags/{tag_key}", summary="A tag: its catalog row and member count per published day")
    def tag_detail(user: Viewer, tag_key: TagKey) -> dict:
        return queries.tag(app.state.client(), tag_key)

    @app.get("/api/tags/{tag_key}/members", summary="A tag's members, one page")
    def tag_members(user: Viewer, tag_key: TagKey, page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
                    page_size: Annotated[int, Query(ge=1, le=queries.MAX_PAGE_SIZE)] = 100) -> dict:
        found = queries.members(app.state.client(), tag_key, page, page_size)
        return {"tag_key": tag_key, "total": found.total, "page": found.page, "page_size": found.page_size,
                "members": found.rows}

    @app.post("/api/tags/{tag_key}/assignments", status_code=201,
              summary="Add or remove a manual tag for customers (published by the next refresh)")
    def assign(user: Editor, tag_key: TagKey, body: Assignment) -> dict:
        malformed = [c for c in body.customer_ids if not CUSTOMER_ID.match(c)]
        if malformed:
            raise HTTPException(422, f"malformed customer id(s): {', '.join(map(repr, malformed[:10]))}; "
                                     "nothing was written")
        try:
            written = pages.assign_by_hand(app.state.client(), user, body.action, tag_key, body.customer_ids)
        except refresh_lock.RefreshRunning as exc:
            raise HTTPException(409, str(exc)) from None
        except manual_tags.ManualTagError as exc:
            status = 404 if str(exc).startswith("no tag") else 422
            raise HTTPException(status, str(exc)) from None
        return {"tag_key": tag_key, "action": body.action, "customers": written, "assigned_by": user.name}

    @app.get("/api/customers/{customer_id}/tags", summary="A customer's published tags")
    def customer_tags(user: Viewer, customer_id: CustomerId) -> dict:
        return queries.customer_tags(app.state.client(), customer_id)

    @app.get("/api/customers/{customer_id}",
             summary="A customer: tags, figures, recent orders, accounts (contact: editors)")
    def customer(user: Viewer, customer_id: CustomerId) -> dict:
        return queries.customer(app.state.client(), customer_id, with_contact=user.can("editor"))

    @app.get("/api/audiences/size", summary="How many customers match an expression, and their share")
    def audience_size(user: Viewer, expression: Expression) -> dict:
        client = app.state.client()
        size = audiences.size(client, expression, catalog.load())
        customers = audiences.customer_count(client)
        return {"expression": expression, "size": size, "customers": customers,
                "share": size / customers if customers else 0.0}

    @app.get("/api/audiences/preview", summary="The first matching customers with the tags the expression uses")
    def audience_preview(user: Viewer, expression: Expression,
                         limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE_SIZE)] = 20) -> dict:
        columns, rows = audiences.preview(app.state.client(), expression, catalog.load(), limit)
        return {"expression": expression, "customers": [dict(zip(columns, row)) for row in rows]}

    return app
