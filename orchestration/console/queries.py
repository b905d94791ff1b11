"""What the console and its API read: the tags from the published views in `tags` (what BI sees), never a run not
yet published; a customer's facts beside them (orders, spend, loyalty points, contact) from staging and the feature
mart as last built, which a run not yet published (or held back) may have rebuilt already. Values travel as query
parameters, never spliced into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestration.relations import relation

MAX_PAGE_SIZE = 1000
CATALOG_COLUMNS = ("tag_key", "tag_name", "category", "method", "value_type", "rule", "params", "owner",
                   "description", "status", "lane", "member_count", "coverage", "first_built_on", "as_of")
LIST_FILTERS = ("category", "method", "owner", "status")


class NotFound(LookupError):
    """An unknown tag or customer; the message names it."""


@dataclass(frozen=True)
class Page:
    total: int
    page: int
    page_size: int
    rows: list[dict]


def _dicts(result) -> list[dict]:
    return [dict(zip(result.column_names, row)) for row in result.result_rows]


def tag_list(client, search: str = "", **filters: str) -> list[dict]:
    """The published catalog, by tag key: every tag whose key, name or description contains `search` (any case),
    and whose category, method, owner and status equal the filters given."""
    conditions, parameters = [], {"search": search}
    if search:
        conditions.append("(positionCaseInsensitiveUTF8(tag_key, %(search)s) > 0 "
                          "OR positionCaseInsensitiveUTF8(tag_name, %(search)s) > 0 "
                          "OR positionCaseInsensitiveUTF8(description, %(search)s) > 0)")
    for column in LIST_FILTERS:
        if filters.get(column):
            conditions.append(f"{column} = %({column})s")
            parameters[column] = filters[column]
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    return _dicts(client.query(f"SELECT {', '.join(CATALOG_COLUMNS)} FROM {relation('published_tag_catalog')} {where} "
                               "ORDER BY tag_key", parameters=parameters))


def coverage_history(client, tag_keys: list[str] | None = None, days: int = 30) -> dict[str, list[dict]]:
    """Per tag, its members and coverage on each of the last `days` published days, oldest first: the figures its
    quality checks measured (quality.tag_quality_figures) in the latest published run of each day."""
    only = "AND figures.tag_key IN %(tags)s" if tag_keys else ""
    rows = client.query(
        f"SELECT figures.tag_key, figures.as_of, argMax(figures.members, log.published_at), "
        f"argMax(figures.coverage, log.published_at) "
        f"FROM {relation('tag_quality_figures')} AS figures "
        f"INNER JOIN {relation('publish_log')} AS log ON log.run_id = figures.run_id "
        f"WHERE log.published_at <= now64(3) AND log.refines_run_id = '' AND figures.as_of > "
        f"(SELECT max(as_of) FROM {relation('publish_log')}) - {int(days)} {only} "
        "GROUP BY figures.tag_key, figures.as_of ORDER BY figures.tag_key, figures.as_of",
        parameters={"tags": tag_keys or []}).result_rows
    history: dict[str, list[dict]] = {}
    for key, day, count, coverage in rows:
        history.setdefault(key, []).append({"as_of": day, "member_count": count, "coverage": coverage})
    return history


def _catalog_row(client, tag_key: str) -> dict:
    """One published tag's catalog row, or NotFound naming it."""
    found = _dicts(client.query(f"SELECT {', '.join(CATALOG_COLUMNS)} FROM {relation('published_tag_catalog')} "
                                "WHERE tag_key = %(tag)s", parameters={"tag": tag_key}))
    if not found:
        raise NotFound(f"no published tag {tag_key!r} (see GET /api/tags)")
    return found[0]


def tag(client, tag_key: str) -> dict:
    """One published tag's catalog row, with its member count and coverage per published day (oldest first)."""
    return _catalog_row(client, tag_key) | {"history": coverage_history(client, [tag_key]).get(tag_key, [])}


def members(client, tag_key: str, page: int, page_size: int) -> Page:
    """A published tag's members by customer id, one page (1-based) of at most MAX_PAGE_SIZE."""
    _catalog_row(client, tag_key)  # an unknown tag is named, not an empty page
    parameters = {"tag": tag_key}
    total = int(client.command(f"SELECT count() FROM {relation('customer_tags')} WHERE tag_key = %(tag)s",
                               parameters=parameters))
    rows = _dicts(client.query(
        f"SELECT customer_id, tag_value FROM {relation('customer_tags')} WHERE tag_key = %(tag)s "
        f"ORDER BY customer_id LIMIT {int(page_size)} OFFSET {(int(page) - 1) * int(page_size)}",
        parameters=parameters))
    return Page(total, page, page_size, rows)


def customer_tags(client, customer_id: str) -> dict:
    """A customer's published tags: {customer_id, as_of, tags: [{tag_key, tag_value}]}."""
    rows = client.query(
        f"SELECT as_of, tag_key, tag_value FROM {relation('customer_tags')} WHERE customer_id = %(id)s "
        "ORDER BY tag_key", parameters={"id": customer_id}).result_rows
    if not rows and not client.command(f"SELECT count() FROM {relation('customer_index')} WHERE customer_id = %(id)s",
                                       parameters={"id": customer_id}):
        stitched = client.query(f"SELECT stitched_customer_id FROM {relation('stitched_customers')} "
                                "WHERE customer_id = %(id)s AND stitched_customer_id != customer_id",
                                parameters={"id": customer_id}).result_rows
        if stitched:  # an account identity stitching joined to another: its tags are the customer's
            raise NotFound(f"{customer_id!r} is an account of customer {stitched[0][0]!r} (identity stitching): "
                           "look that customer up")
        raise NotFound(f"no customer {customer_id!r} in the published run")
    return {"customer_id": customer_id, "as_of": rows[0][0] if rows else None,
            "tags": [{"tag_key": key, "tag_value": value} for _, key, value in rows]}


def customer(client, customer_id: str, with_contact: bool, recent_orders: int = 10) -> dict:
    """A customer's tags, figures (feature mart, loyalty points) and latest orders; e-mail and phone only when
    with_contact."""
    found = customer_tags(client, customer_id)
    parameters = {"id": customer_id}
    figures = _dicts(client.query(
        f"SELECT features.as_of AS as_of, features.orders_total AS orders_total, features.spend_total AS spend_total, "
        f"features.last_order_at AS last_order_at, features.member_tier AS member_tier, "
        f"customers.loyalty_points AS loyalty_points FROM {relation('customer_features')} AS features "
        f"LEFT JOIN {relation('stg_customers')} AS customers ON customers.customer_id = features.customer_id "
        "WHERE features.customer_id = %(id)s", parameters=parameters))
    # the customer's accounts (identity stitching), each with its own contact when asked; its orders are theirs
    accounts = _dicts(client.query(
        f"SELECT customer_id{', email, phone' if with_contact else ''} FROM {relation('stg_customer_accounts')} "
        f"WHERE customer_id IN {_accounts_of('= %(id)s')} ORDER BY customer_id", parameters=parameters))
    orders = _dicts(client.query(
        f"SELECT order_id, ordered_at, status, amount, channel FROM {relation('stg_orders')} "
        f"WHERE source_customer_id IN %(accounts)s ORDER BY ordered_at DESC LIMIT {int(recent_orders)}",
        parameters={"accounts": [a["customer_id"] for a in accounts]})) if accounts else []
    found |= {"figures": figures[0] if figures else None, "recent_orders": orders, "accounts": accounts}
    if with_contact:
        own = [a for a in accounts if a["customer_id"] == customer_id]
        found["contact"] = {"email": own[0]["email"], "phone": own[0]["phone"]} if own else {"email": None, "phone": None}
    return found


def _accounts_of(stitched_condition: str) -> str:
    """The account ids of the stitched customers matching the condition: staging's source_customer_id is the sorting
    key of the staged facts, so a customer's orders are found by it, not by the stitched customer_id."""
    return (f"(SELECT customer_id FROM {relation('stitched_customers')} "
            f"WHERE stitched_customer_id {stitched_condition})")



def member_details(client, customer_ids: list[str], recent_orders: int = 3) -> dict[str, dict]:
    """For a page of customers: order count and spend (feature mart), loyalty points, their latest orders and their
    published tags."""
    if not customer_ids:
        return {}
    parameters = {"ids": customer_ids}
    details = {c: {"orders_total": None, "spend_total": None, "loyalty_points": None, "recent_orders": [], "tags": []}
               for c in customer_ids}
    for customer_id, points in client.query(
            f"SELECT customer_id, loyalty_points FROM {relation('stg_customers')} WHERE customer_id IN %(ids)s",
            parameters=parameters).result_rows:
        details[customer_id]["loyalty_points"] = points
    for customer_id, orders, spend in client.query(
            f"SELECT customer_id, orders_total, spend_total FROM {relation('customer_features')} "
            "WHERE customer_id IN %(ids)s", parameters=parameters).result_rows:
        details[customer_id] |= {"orders_total": orders, "spend_total": spend}
    for customer_id, at, amount, status in client.query(
            f"SELECT customer_id, ordered_at, amount, status FROM {relation('stg_orders')} "
            f"WHERE source_customer_id IN {_accounts_of('IN %(ids)s')} "
            f"ORDER BY customer_id, ordered_at DESC LIMIT {int(recent_orders)} BY customer_id",
            parameters=parameters).result_rows:
        details[customer_id]["recent_orders"].append({"ordered_at": at, "amount": amount, "status": status})
    for customer_id, key, value in client.query(
            f"SELECT customer_id, tag_key, tag_value FROM {relation('customer_tags')} WHERE customer_id IN %(ids)s "
            "ORDER BY customer_id, tag_key", parameters=parameters).result_rows:
        details[customer_id]["tags"].append({"tag_key": key, "tag_value": value})
    return details
