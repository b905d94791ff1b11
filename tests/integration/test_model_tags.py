"""The model tag method on demo data, through the nightly job: a model is trained on the features of as_of minus the
horizon with the outcome known up to as_of, validated on held-out customers, scores today's customers, and its tag is
the band of the score; a model that learns nothing (the target shuffled with a seed) fails its blocking auc check and
the tag keeps its published values."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from orchestration.catalog import catalog
from orchestration.dagster import refresh
from orchestration.models import model_tags
from tests.integration.known import AS_OF

TAG = "churn_predicted"


def rows(client, sql: str, **parameters) -> list[tuple]:
    return client.query(sql, parameters=parameters or None).result_rows


def published_values(client) -> dict[str, str]:
    return dict(rows(client, "SELECT customer_id, tag_value FROM tags.customer_tags WHERE tag_key = %(t)s", t=TAG))


def test_the_model_tag_is_trained_validated_scored_and_published(demo_night, client):
    [spec] = [s for s in model_tags.model_specs() if s.tag_key == TAG]
    [version] = rows(client, "SELECT version, train_as_of, train_rows, validation_rows, validation_auc, min_auc, error, "
                             "scored_customers, features FROM tag_store.model_versions WHERE run_id = %(r)s",
                     r=demo_night.run_id)
    _, train_as_of, train_rows, validation_rows, auc, min_auc, error, scored, features = version
    assert error == "" and train_as_of == AS_OF - dt.timedelta(days=spec.horizon_days)
    assert auc >= min_auc == spec.min_auc and list(features) == list(spec.features)
    # the held-out 20% by a seeded hash, never trained on
    assert 0.15 < validation_rows / (train_rows + validation_rows) < 0.25
    customers = rows(client, "SELECT count() FROM features.customer_features")[0][0]
    assert scored == customers == len(published_values(client))
    # every customer has one band, and the bands follow the scores and the catalog's thresholds
    params = next(r for r in catalog.load() if r.tag_key == TAG).params
    banded = rows(client, f"""
        SELECT countIf(t.tag_value != multiIf(s.score >= {params['band_high']}, 'high',
                                              s.score >= {params['band_medium']}, 'medium', 'low')),
               groupUniqArray(t.tag_value)
        FROM tags.customer_tags AS t INNER JOIN tag_store.model_scores AS s
            ON s.customer_id = t.customer_id AND s.run_id = %(r)s AND s.tag_key = t.tag_key
        WHERE t.tag_key = %(t)s""", r=demo_night.run_id, t=TAG)[0]
    assert banded[0] == 0 and set(banded[1]) == {"high", "medium", "low"}
    [auc_check] = [c for c in demo_night.checks if c.check == f"quality__{TAG}__auc"]
    assert auc_check.passed and auc_check.blocking


def test_the_same_data_and_seed_give_the_same_model(demo_night, client):
    [spec] = [s for s in model_tags.model_specs() if s.tag_key == TAG]
    [(version, auc)] = rows(client, "SELECT version, validation_auc FROM tag_store.model_versions WHERE run_id = %(r)s",
                            r=demo_night.run_id)
    again, pipeline = model_tags.train(client, spec, AS_OF)
    assert (again.version, again.validation_auc) == (version, auc)
    # the engine scores with the recorded coefficients what the fitted pipeline predicts
    ids, x = zip(*rows(client, f"SELECT customer_id, x FROM ({model_tags._feature_query(spec.features, False)}) "
                               "ORDER BY customer_id LIMIT 200", day=AS_OF, seed=spec.seed))
    scored = dict(rows(client, "SELECT customer_id, score FROM tag_store.model_scores WHERE run_id = %(r)s",
                       r=demo_night.run_id))
    assert [scored[i] for i in ids] == pytest.approx(pipeline.predict_proba(x)[:, 1].tolist(), abs=2e-6)
    other_seed, _ = model_tags.train(client, dataclasses.replace(spec, seed=spec.seed + 1), AS_OF)
    assert other_seed.version != version


@pytest.fixture
def shuffled_catalog():
    """The catalog with the model tag's target shuffled (param shuffle_target_seed), restored afterwards."""
    shipped = catalog.CATALOG_FILE.read_text()
    changed = shipped.replace(";seed=42,data-eng,\"Predicted churn", ";seed=42;shuffle_target_seed=7,data-eng,\"Predicted churn")
    assert changed != shipped
    try:
        catalog.CATALOG_FILE.write_text(changed)
        refresh.prepare(catalog.load(), AS_OF)
        yield
    finally:
        catalog.CATALOG_FILE.write_text(shipped)
        refresh.prepare(catalog.load(), AS_OF)


@pytest.mark.slow
def test_a_shuffled_target_fails_the_auc_check_and_holds_the_tag(demo_night, client, shuffled_catalog):
    before = published_values(client)
    outcome = refresh.run(AS_OF, None, catalog.load())
    # when_blocked = hold_tag: the night publishes, the model tag keeps its published values
    assert outcome.success and outcome.published and outcome.held == [TAG], outcome.failures
    failed = [c for c in outcome.checks if not c.passed and c.asset != "published_tags"]  # freshness: old demo data
    assert [(c.check, c.blocking) for c in failed] == [(f"quality__{TAG}__auc", True)]
    assert 0.4 < failed[0].metadata["observed"] < 0.6  # a model of shuffled labels ranks no better than chance
    assert "target shuffled" in failed[0].metadata["message"]
    assert published_values(client) == before
    assert rows(client, "SELECT tag_key FROM tags.tag_catalog WHERE stale") == [(TAG,)]
    [(shuffle_seed, auc)] = rows(client, "SELECT shuffle_target_seed, validation_auc FROM tag_store.model_versions "
                                         "WHERE run_id = %(r)s", r=outcome.run_id)
    assert shuffle_seed == 7 and auc == failed[0].metadata["observed"]
