"""customer_features on hand-built customers whose right answers are known, at the edges of every window."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from orchestration.catalog import rules
from orchestration.dagster import dbt_runner
from tests.integration.known import AS_OF, END, customer, days_ago, load_raw, message, order

ORDERS = [
    # K1: exactly 3 counted orders in 180 days (10, 100 and 180 days ago), a 4th 181 days ago
    order("K1-a", "K1", days_ago(10)), order("K1-b", "K1", days_ago(100)), order("K1-c", "K1", days_ago(180)),
    order("K1-d", "K1", days_ago(181)),
    # K2 first ordered 30 days ago, K3 31 days ago
    order("K2-a", "K2", days_ago(30)), order("K3-a", "K3", days_ago(31)),
    # K4: 7 of 10 items fashion (70%); K5: 69 of 100 (69%)
    order("K4-a", "K4", days_ago(40)), order("K5-a", "K5", days_ago(40)),
    # K6: cancelled and refunded orders do not count
    order("K6-a", "K6", days_ago(5), "cancelled", "900.00"), order("K6-b", "K6", days_ago(6), "refunded", "800.00"),
    order("K6-c", "K6", days_ago(7), "completed", "50.00"),
    # K7 unpaid for 61 minutes, K8 for 59 minutes
    order("K7-a", "K7", END - dt.timedelta(minutes=61), "pending_payment"),
    order("K8-a", "K8", END - dt.timedelta(minutes=59), "pending_payment"),
]
ITEMS = [["K1-a", "PF", 1, Decimal("100")], ["K1-b", "PF", 1, Decimal("100")], ["K1-c", "PF", 1, Decimal("100")],
         ["K1-d", "PF", 1, Decimal("100")], ["K2-a", "PS", 1, Decimal("100")], ["K3-a", "PS", 1, Decimal("100")],
         ["K4-a", "PF", 7, Decimal("10")], ["K4-a", "PS", 3, Decimal("10")],
         ["K5-a", "PF", 69, Decimal("1")], ["K5-a", "PS", 31, Decimal("1")],
         ["K6-a", "PS", 1, Decimal("900")], ["K6-b", "PS", 1, Decimal("800")], ["K6-c", "PF", 1, Decimal("50")]]


EVENTS = [
    # K10: 4 broadcasts in 90 days; replies after 1 h (the latest one), 2 days, 10 days, none
    *message("K10", days_ago(2), dt.timedelta(hours=1)),
    *message("K10", days_ago(20), dt.timedelta(days=2)),
    *message("K10", days_ago(40), dt.timedelta(days=10)),
    *message("K10", days_ago(60), None),
    *message("K10", days_ago(100), dt.timedelta(hours=1)),  # outside 90 days
    *message("K10", days_ago(3), dt.timedelta(hours=3), kind="email"),
    *message("K10", days_ago(17), dt.timedelta(hours=3), kind="email"),
    ["K10", days_ago(1), "pricing_page_view", "web", None, None, None],
    ["K10", days_ago(29), "pricing_page_view", "web", None, None, None],
    ["K10", days_ago(31), "pricing_page_view", "web", None, None, None],
    ["K10", days_ago(5), "enquiry", "chat", None, "shoes", None],
]


@pytest.fixture(scope="module")
def features(client):
    load_raw(
        client,
        customers=[customer(f"K{n}") for n in range(1, 11)],
        products=[["PF", "fashion", "b", Decimal("1")], ["PS", "shoes", "b", Decimal("1")]],
        orders=ORDERS,
        order_items=ITEMS,
        events=EVENTS,
        tickets=[["T1", "K10", days_ago(3), None, "complaint"], ["T2", "K9", days_ago(20), days_ago(5), "complaint"]],
        consents=[["K10", "email", True, days_ago(50)], ["K10", "email", False, days_ago(10)],
                  ["K10", "sms", True, days_ago(50)]],
    )
    dbt_runner.run("build", AS_OF, ["+customer_features"])
    result = client.query("SELECT * FROM features.customer_features ORDER BY customer_id")
    return {row["customer_id"]: row for row in result.named_results()}


def test_every_customer_has_one_row(features):
    assert sorted(features) == sorted(f"K{n}" for n in range(1, 11))


def test_order_windows_include_day_n_and_exclude_day_n_plus_1(features):
    k1 = features["K1"]
    assert (k1["orders_30d"], k1["orders_90d"], k1["orders_180d"], k1["orders_365d"], k1["orders_total"]) == (1, 1, 3, 4, 4)
    assert k1["spend_180d"] == 300 and k1["spend_total"] == 400
    assert (features["K2"]["days_since_first_order"], features["K2"]["orders_30d"]) == (30, 1)
    assert (features["K3"]["days_since_first_order"], features["K3"]["orders_30d"]) == (31, 0)


def test_category_share_and_top_category(features):
    assert features["K4"]["top_category"] == "fashion" and features["K4"]["top_category_share"] == pytest.approx(0.70)
    assert features["K5"]["top_category_share"] == pytest.approx(0.69)
    assert features["K4"]["category_share"] == pytest.approx({"fashion": 0.7, "shoes": 0.3})
    assert features["K4"]["category_orders"] == {"fashion": 1, "shoes": 1}


def test_cancelled_and_refunded_orders_do_not_count(features):
    k6 = features["K6"]
    assert (k6["orders_total"], k6["spend_total"], k6["max_order_amount_365d"], k6["avg_order_value"]) == (1, 50, 50, 50)
    assert k6["category_share"] == {"fashion": 1.0}


def test_unpaid_for_61_minutes_awaits_payment_59_minutes_does_not(features):
    assert features["K7"]["has_order_awaiting_payment"] == 1
    assert features["K8"]["has_order_awaiting_payment"] == 0
    assert features["K7"]["orders_total"] == 0  # an unpaid order is not a purchase


def test_customer_without_orders_has_nulls_not_zeros_for_dates(features):
    k9 = features["K9"]
    assert k9["first_order_at"] is None and k9["days_since_last_order"] is None and k9["days_since_last_completed"] is None
    assert (k9["orders_total"], k9["spend_total"], k9["top_category"]) == (0, 0, "")


def test_replies_opens_and_campaign_response(features):
    k10 = features["K10"]
    assert (k10["messages_sent_90d"], k10["replies_90d"]) == (4, 3)
    assert k10["broadcast_reply_rate_90d"] == pytest.approx(0.75)
    assert k10["reply_rate_7d"] == pytest.approx(0.5)
    assert k10["replied_within_24h_rate"] == pytest.approx(0.25)
    assert k10["last_campaign_responded"] == 1
    assert (k10["emails_sent_90d"], k10["email_open_rate_90d"]) == (2, 1.0)
    assert k10["pricing_page_views_30d"] == 2
    assert k10["category_enquiries_90d"] == {"shoes": 1}


def test_tickets_and_consents(features):
    assert (features["K10"]["open_complaints"], features["K10"]["complaints_resolved_30d"]) == (1, 0)
    assert (features["K9"]["open_complaints"], features["K9"]["complaints_resolved_30d"]) == (0, 1)
    assert (features["K10"]["consent_email"], features["K10"]["consent_sms"], features["K10"]["consent_push"]) == (0, 1, 0)


def test_built_columns_have_the_types_the_yaml_documents(features, client):
    # catalog validation types rules by the YAML (rules.feature_columns): it must be what dbt builds
    built = dict(client.query("SELECT name, type FROM system.columns WHERE database = 'features' "
                              "AND table = 'customer_features'").result_rows)
    assert built == rules.feature_columns()
