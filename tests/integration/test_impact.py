"""Campaign impact on a real server: a demo night, the demo's planted campaign (an export with a holdout whose
treated members convert CAMPAIGN_LIFT more) and one without an effect, the next month refreshed in; the
measured lifts, their intervals and segments checked against the planted effect and against the orders in raw,
through the functions, the command line and the console page."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from starlette.testclient import TestClient

from orchestration.audiences import impact
from orchestration.catalog import catalog
from orchestration.console import accounts, api
from orchestration.dagster import refresh
from orchestration.warehouse import demo
from tests.conftest import tags_cli
from tests.integration.known import AS_OF

pytestmark = pytest.mark.slow  # two nights forty days apart: make test-all

CUSTOMERS = 2000
SEED = 42
# the campaign's night, early enough that the night after its window is not in the future
CAMPAIGN_NIGHT = AS_OF - dt.timedelta(days=40)
WINDOW_OVER = CAMPAIGN_NIGHT + dt.timedelta(days=demo.CAMPAIGN_WINDOW_DAYS + 1)
NO_EFFECT_AUDIENCE = "social_lapsed"  # no member in common with demo.CAMPAIGN_AUDIENCE in this demo


def rows(client, sql: str, **parameters) -> list[tuple]:
    return client.query(sql, parameters=parameters or None).result_rows


def covers(interval: tuple[float, float] | None, value: float) -> bool:
    assert interval is not None
    return interval[0] <= value <= interval[1]


@pytest.fixture(scope="module")
def campaign(client):
    """The demo night, both campaigns planted, their impact measured before the orders are in (window not over),
    then the night after the window refreshed in."""
    demo.generate(client, CUSTOMERS, SEED, CAMPAIGN_NIGHT)
    assert refresh.run(CAMPAIGN_NIGHT, None, catalog.load()).success
    planted = demo.plant_campaign(client, SEED)
    no_effect = demo.plant_campaign(client, SEED, NO_EFFECT_AUDIENCE, lift=0.0)
    before = impact.measure(client, demo.CAMPAIGN_AUDIENCE)
    outcome = refresh.run(WINDOW_OVER, None, catalog.load())
    assert outcome.success and outcome.published, outcome.failures
    return planted, no_effect, before


def test_the_planted_effect_is_recovered_within_its_intervals(client, campaign):
    planted, _, _ = campaign
    found = impact.measure(client, demo.CAMPAIGN_AUDIENCE)
    assert found.export_id == planted.export_id and not found.partial and found.days_covered == pytest.approx(30)
    conversion, revenue = found.overall.conversion, found.overall.revenue_per_customer
    assert covers(conversion.absolute_ci, demo.CAMPAIGN_LIFT), conversion
    assert conversion.absolute_ci[0] > 0, "the planted effect is large enough to be told from none"
    assert covers((conversion.held_out - 0.1, conversion.held_out + 0.1), demo.CAMPAIGN_BASE_RATE)
    assert covers(revenue.absolute_ci, demo.CAMPAIGN_LIFT * demo.CAMPAIGN_MEAN_AMOUNT), revenue
    base = demo.CAMPAIGN_BASE_RATE
    assert covers(conversion.relative_ci, demo.CAMPAIGN_LIFT / base), conversion
    assert covers(revenue.relative_ci, demo.CAMPAIGN_LIFT / base), revenue


def test_an_export_without_an_effect_gets_an_interval_around_zero(client, campaign):
    found = impact.measure(client, NO_EFFECT_AUDIENCE)
    assert found.overall.treated_converted + found.overall.held_out_converted > 0
    assert covers(found.overall.conversion.absolute_ci, 0.0)
    assert covers(found.overall.revenue_per_customer.absolute_ci, 0.0)


def test_groups_are_the_exports_and_conversions_are_the_orders_in_raw(client, campaign):
    planted, _, _ = campaign
    found = impact.measure(client, demo.CAMPAIGN_AUDIENCE).overall
    assert found.held_out == planted.held_out
    assert found.treated == planted.exported + planted.left_out_no_consent + planted.left_out_no_contact
    # every paid-or-later order of raw in the window: the planted ones and any other (the demo's orders "dated in
    # the future" of the first night fall in it)
    in_window = rows(client, """
        SELECT a.held_out, uniqExact(o.customer_id), sum(o.amount)
        FROM raw.orders AS o
        INNER JOIN audiences.export_assignments AS a ON a.customer_id = o.customer_id
        CROSS JOIN (SELECT exported_at FROM audiences.export_log WHERE export_id = %(e)s) AS export
        WHERE a.export_id = %(e)s AND o.status IN ('paid', 'shipped', 'delivered', 'completed')
          AND o.ordered_at >= export.exported_at AND o.ordered_at < export.exported_at + toIntervalDay(30)
        GROUP BY a.held_out""", e=planted.export_id)
    converted = {held_out: customers for held_out, customers, _ in in_window}
    assert (found.treated_converted, found.held_out_converted) == (converted[False], converted[True])
    revenue = sum(float(amount) for _, _, amount in in_window)
    measured = (found.revenue_per_customer.treated * found.treated + found.revenue_per_customer.held_out * found.held_out)
    assert measured == pytest.approx(revenue)


def test_segments_add_up_to_the_export_and_small_ones_are_flagged(client, campaign):
    found = impact.measure(client, demo.CAMPAIGN_AUDIENCE)
    for dimension in impact.SEGMENT_TAGS:
        parts = [c for c in found.segments if c.dimension == dimension]
        assert len(parts) > 1
        assert sum(c.treated for c in parts) == found.overall.treated
        assert sum(c.held_out_converted for c in parts) == found.overall.held_out_converted
        assert all(c.small == (min(c.treated, c.held_out) < impact.SMALL_GROUP) for c in parts)
    assert any(c.small for c in found.segments) and any(not c.small for c in found.segments)
    tagged = rows(client, "SELECT tag_value, count() FROM tag_store.tag_snapshots WHERE run_id = %(r)s AND "
                          "tag_key = 'country' AND customer_id IN (SELECT customer_id FROM audiences.export_assignments "
                          "WHERE export_id = %(e)s) GROUP BY tag_value", r=found.run_id, e=found.export_id)
    by_country = {c.segment: c.treated + c.held_out for c in found.segments if c.dimension == "country"}
    assert by_country == dict(tagged)  # as tagged on the export's night, not the night after the window


def test_a_window_not_over_is_partial_and_a_shorter_one_counts_fewer(client, campaign):
    _, _, before = campaign
    assert before.partial and before.days_covered == 0
    assert before.overall.treated_converted == before.overall.held_out_converted == 0
    ten_days = impact.measure(client, demo.CAMPAIGN_AUDIENCE, window_days=10)
    whole = impact.measure(client, demo.CAMPAIGN_AUDIENCE)
    assert not ten_days.partial
    assert 0 < ten_days.overall.treated_converted < whole.overall.treated_converted


def test_the_command_prints_the_impact_and_names_bad_input(client, campaign):
    done = tags_cli("audience", "impact", demo.CAMPAIGN_AUDIENCE, "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    printed = json.loads(done.stdout)
    found = impact.measure(client, demo.CAMPAIGN_AUDIENCE)
    assert printed["overall"]["conversion"]["absolute_ci"] == pytest.approx(list(found.overall.conversion.absolute_ci))
    assert printed["partial"] is False and len(printed["segments"]) == len(found.segments)
    table = tags_cli("audience", "impact", demo.CAMPAIGN_AUDIENCE, env={"COLUMNS": "240"})
    assert table.returncode == 0 and "rfm_segment = champions" in table.stdout, table.stdout + table.stderr
    for args, named in ((["payment_reminder"], "no export with a holdout"),
                        ([demo.CAMPAIGN_AUDIENCE, "--window-days", "0"], "--window-days must be at least 1"),
                        ([demo.CAMPAIGN_AUDIENCE, "--export", "nope"], "'nope' is not an export")):
        refused = tags_cli("audience", "impact", *args)
        assert refused.returncode == 1 and named in refused.stdout, refused.stdout + refused.stderr


def test_the_console_page_shows_the_verdict_and_every_segment(client, campaign):
    token = accounts.add(client, "mia", "viewer", "test")
    with TestClient(api.create_app(lambda: client)) as browser:
        csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/login").text).group(1)
        browser.post("/login", data={"token": token, "csrf": csrf, "next": "/"})
        page = browser.get(f"/audiences/{demo.CAMPAIGN_AUDIENCE}/impact")
        assert page.status_code == 200, page.text
        assert "converted more than the holdout" in page.text and 'id="partial"' not in page.text
        assert page.text.count('class="interval"') == 2 * (1 + len(impact.measure(client, demo.CAMPAIGN_AUDIENCE).segments))
        missing = browser.get("/audiences/payment_reminder/impact")
        assert missing.status_code == 404 and "no export with a holdout" in missing.text
