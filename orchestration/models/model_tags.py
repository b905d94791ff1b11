"""The `model` tag method: a predictive tag trained, validated and scored each night with scikit-learn.

A model row of the catalog names a target over a horizon (`target='no_order';horizon_days=90`: no counted order
in the 90 days after a day), the features it learns from (`features='orders_90d spend_365d ...'`, names of
FEATURES), the AUC the model must reach on held-out customers (`min_auc`), the score bands (`band_high`,
`band_medium`) and a seed. For a run as of day D:

  1. training set: the customers' features as of D - horizon, labelled with the target observed over
     (D - horizon, D], so the outcome is known; the features are recomputed from staging as of that day. At most
     MAX_TRAINING_CUSTOMERS of them, the first by cityHash64(customer_id, seed): the engine aggregates every
     customer, Python holds a bounded sample whatever the scale;
  2. validation: the customers whose cityHash64(customer_id, seed) falls in the held-out 20% are not trained on;
     the model's AUC on them is recorded, and the tag's blocking `auc` check (a dbt test,
     macros/tests/quality/auc.sql) compares it with min_auc: below it, or no AUC at all, holds the tag;
  3. scoring: today's features (as of D), the model's probability of the target per customer, computed by the
     engine from the recorded coefficients (INSERT ... SELECT: no customer passes through Python) into
     tag_store.model_scores; the tag's dbt model (macros/tags/model_tag.sql) bands it into high, medium, low.

The model (standardised features, logistic regression) is deterministic: the same staging, params and seed give
the same coefficients, AUC and version. Every model trained is kept in tag_store.model_versions with its metrics
and coefficients (enough to score again without scikit-learn). `shuffle_target_seed` permutes the training and
validation labels with that seed: a control that the model learns nothing from (AUC about 0.5) and that the auc
check must block.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass, field

import numpy as np

from orchestration import relations
from orchestration.relations import relation

# The features a model may learn from: recomputed at any past day from staging (orders and the customer record),
# so the training set is as of D - horizon without leaking what came after. Same names and windows as
# customer_features ("N days" = the N days before the day, the day included).
WINDOWS = (30, 90, 180, 365)
FEATURES: dict[str, str] = {
    **{f"orders_{n}d": f"toFloat64(countIf(order_day >= day - {n}))" for n in WINDOWS},
    **{f"spend_{n}d": f"toFloat64(sumIf(amount, order_day >= day - {n}))" for n in WINDOWS},
    "orders_total": "toFloat64(count())",
    "spend_total": "toFloat64(sum(amount))",
    "days_since_first_order": "toFloat64(dateDiff('day', min(order_day), day))",
    "days_since_last_order": "toFloat64(dateDiff('day', max(order_day), day))",
}
# Customer features (not order aggregates): tenure; a customer who never ordered gets their tenure as days since
# their first and last order (no order ever counts as long ago as the customer has existed).
TENURE = "toFloat64(dateDiff('day', toDate(signup_at), day))"
CUSTOMER_FEATURES = ("tenure_days",)
ALL_FEATURES = (*FEATURES, *CUSTOMER_FEATURES)
# The outcome over the horizon: the share of customers with at least one counted order in it.
TARGETS = {"no_order": "no counted order in the horizon", "ordered": "at least one counted order in the horizon"}
# Orders that count as purchases: macros/features/counted_order_statuses.sql (a unit test keeps the two equal).
COUNTED_ORDER_STATUSES = ("paid", "shipped", "delivered", "completed")
BANDS = ("high", "medium", "low")
VALIDATION_PERCENT = 20
# A logistic regression on 7 features learns as well from 200,000 customers as from millions; the cap keeps the
# training step's memory and time flat as the customers grow (1 M customers: BENCHMARKS.md, "model step").
MAX_TRAINING_CUSTOMERS = 200_000
MODEL_PARAMS = ("target", "horizon_days", "features", "min_auc", "band_high", "band_medium", "seed")
OPTIONAL_PARAMS = ("shuffle_target_seed",)
SCORES = "model_runs.model_scores"
VERSIONS = "model_runs.model_versions"


class ModelError(ValueError):
    """A model that cannot be trained or scored; the message names the tag and why."""


def params_problems(params: dict) -> list[str]:
    """What is wrong with a model row's params (catalog validation and the training step share this)."""
    problems = [f"a model tag needs the param {name!r}" for name in MODEL_PARAMS if name not in params]
    problems += [f"param {name!r} is not a model param; they are {', '.join(MODEL_PARAMS + OPTIONAL_PARAMS)}"
                 for name in params if name not in MODEL_PARAMS + OPTIONAL_PARAMS]
    if problems:
        return problems
    if params["target"] not in TARGETS:
        problems.append(f"unknown target {params['target']!r}; one of {', '.join(TARGETS)}")
    if not isinstance(params["horizon_days"], int) or not 1 <= params["horizon_days"] <= 365:
        problems.append(f"horizon_days must be a whole number of days, 1 to 365, got {params['horizon_days']!r}")
    features = str(params["features"]).split()
    if not features:
        problems.append("features is empty; name one or more of " + ", ".join(ALL_FEATURES))
    problems += [f"unknown feature {name!r}; one of {', '.join(ALL_FEATURES)}" for name in features if name not in ALL_FEATURES]
    if len(set(features)) != len(features):
        problems.append("features names a feature twice")
    for name in ("min_auc", "band_high", "band_medium"):
        if not isinstance(params[name], (int, float)) or not 0 <= params[name] <= 1:
            problems.append(f"{name} must be a number from 0 to 1, got {params[name]!r}")
    if not problems and params["band_medium"] > params["band_high"]:
        problems.append(f"band_medium {params['band_medium']} is above band_high {params['band_high']}")
    for name in ("seed", *(n for n in OPTIONAL_PARAMS if n in params)):
        if not isinstance(params[name], int) or params[name] < 0:
            problems.append(f"{name} must be a whole number, 0 or more, got {params[name]!r}")
    return problems


@dataclass(frozen=True)
class ModelSpec:
    tag_key: str
    target: str
    horizon_days: int
    features: tuple[str, ...]
    min_auc: float
    seed: int
    shuffle_target_seed: int | None = None

    @classmethod
    def of(cls, tag_key: str, params: dict) -> ModelSpec:
        if problems := params_problems(params):
            raise ModelError(f"model tag {tag_key}: {'; '.join(problems)}")
        return cls(tag_key, params["target"], params["horizon_days"], tuple(str(params["features"]).split()),
                   float(params["min_auc"]), params["seed"], params.get("shuffle_target_seed"))


def model_specs() -> list[ModelSpec]:
    """The model tags the dbt project builds, from their models' meta (the parsed catalog rows, as the tag
    models read them): no catalog file is read."""
    return [ModelSpec.of(node["config"]["meta"]["tag_key"], node["config"]["meta"].get("params") or {})
            for node in relations.models()
            if (node["config"].get("meta") or {}).get("method") == "model"]


@dataclass
class TrainedModel:
    spec: ModelSpec
    as_of: dt.date
    train_as_of: dt.date
    train_rows: int = 0
    validation_rows: int = 0
    positive_rate: float = 0.0
    validation_auc: float | None = None
    coefficients: dict = field(default_factory=dict)
    error: str = ""  # why there is no model (then no scores either, and the auc check fails)
    scored: int = 0
    train_seconds: float = 0.0
    score_seconds: float = 0.0

    @property
    def version(self) -> str:
        """The model's identity: what it was trained on and what it learnt. A re-run on the same data gives the same."""
        content = json.dumps([self.spec.tag_key, str(self.train_as_of), self.spec.target, self.spec.horizon_days,
                              self.spec.features, self.spec.seed, self.spec.shuffle_target_seed, self.coefficients],
                             sort_keys=True)
        return hashlib.sha256(content.encode()).hexdigest()[:12]


def _feature_query(features: tuple[str, ...], with_label: bool) -> str:
    """Every customer who had signed up by the end of {day}: id, held_out, the features as of {day} as array x
    (and, with_label, whether the target happened in ({day}, {day} + horizon])."""
    order_columns = ",\n           ".join(f"{expression} as {name}" for name, expression in FEATURES.items())
    selected = ", ".join(
        f"if(orders.customer_id = '', {TENURE}, {name})" if name.startswith("days_since") else
        (TENURE if name == "tenure_days" else name) for name in features)
    statuses = ", ".join(f"'{s}'" for s in COUNTED_ORDER_STATUSES)
    label = (f""",
       customers.customer_id in (
           select customer_id from {relation('stg_orders')}
           where status in ({statuses}) and ordered_at >= toDateTime(day + 1)
             and ordered_at < toDateTime({{outcome_end:Date}})) as ordered""" if with_label else "")
    return f"""
with {{day:Date}} as day
select customers.customer_id as customer_id,
       cityHash64(customers.customer_id, {{seed:UInt64}}) % 100 < {VALIDATION_PERCENT} as held_out,
       [{selected}] as x{label}
from (select customer_id, signup_at from {relation('stg_customers')} where signup_at < toDateTime(day + 1)) as customers
left join (
    select customer_id,
           {order_columns}
    from (select customer_id, toDate(ordered_at) as order_day, toFloat64(assumeNotNull(amount)) as amount
          from {relation('stg_orders')}
          where status in ({statuses}) and ordered_at < toDateTime(day + 1))
    group by customer_id
) as orders on orders.customer_id = customers.customer_id"""


def _training_query(features: tuple[str, ...]) -> str:
    """The training and held-out customers: at most MAX_TRAINING_CUSTOMERS, the same ones for the same data and
    seed, in a fixed order (so the fit is deterministic)."""
    return (_feature_query(features, with_label=True)
            + f"\norder by cityHash64(customer_id, {{seed:UInt64}}), customer_id limit {MAX_TRAINING_CUSTOMERS}")


def _score_expression(coefficients: dict) -> str:
    """The model's probability as SQL over the feature array x: the logistic of the standardised features' weighted
    sum, what the fitted pipeline's predict_proba computes (StandardScaler, then LogisticRegression)."""
    terms = " + ".join(f"({weight!r}) * ((x[{i + 1}] - ({mean!r})) / ({scale!r}))" for i, (weight, mean, scale) in
                       enumerate(zip(coefficients["weights"], coefficients["mean"], coefficients["scale"])))
    return f"1 / (1 + exp(-(({coefficients['intercept']!r}) + {terms})))"


def _read(client, query: str, parameters: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """(customer ids, held_out, feature matrix, labels or None) of one feature query."""
    columns = client.query(query, parameters=parameters, settings={"join_use_nulls": 0}).result_columns
    if not columns or not columns[0]:
        return np.array([], dtype=object), np.array([], dtype=bool), np.zeros((0, 0)), None
    ids, held_out, x = np.array(columns[0], dtype=object), np.array(columns[1], dtype=bool), np.array(columns[2], dtype=float)
    return ids, held_out, x, (np.array(columns[3], dtype=bool) if len(columns) > 3 else None)


def train(client, spec: ModelSpec, as_of: dt.date) -> tuple[TrainedModel, object | None]:
    """Train on D - horizon with the outcome up to D, validate on the held-out customers. Returns the record and the
    fitted pipeline (None when it could not be trained: the record's error says why)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    started = time.perf_counter()
    train_as_of = as_of - dt.timedelta(days=spec.horizon_days)
    record = TrainedModel(spec, as_of, train_as_of)
    _, held_out, x, ordered = _read(client, _training_query(spec.features),
                                    {"day": train_as_of, "outcome_end": as_of + dt.timedelta(days=1), "seed": spec.seed})
    if ordered is None or not len(ordered):
        record.error = f"no customers had signed up by {train_as_of} (as_of {as_of} minus horizon {spec.horizon_days} days)"
        return record, None
    labels = ~ordered if spec.target == "no_order" else ordered
    if spec.shuffle_target_seed is not None:  # the control: labels that no feature can explain
        labels = np.random.default_rng(spec.shuffle_target_seed).permutation(labels)
    train_part, validation_part = ~held_out, held_out
    record.train_rows, record.validation_rows = int(train_part.sum()), int(validation_part.sum())
    record.positive_rate = float(labels.mean())
    for part, name in ((train_part, "training"), (validation_part, "held-out")):
        if len(set(labels[part])) < 2:
            record.error = (f"the {name} customers ({int(part.sum())}) all have the same outcome as of {train_as_of}: "
                            f"{spec.target} over {spec.horizon_days} days cannot be learnt or judged")
            return record, None
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=spec.seed))
    pipeline.fit(x[train_part], labels[train_part])
    record.validation_auc = float(roc_auc_score(labels[validation_part], pipeline.predict_proba(x[validation_part])[:, 1]))
    scaler, regression = pipeline[0], pipeline[-1]
    record.coefficients = {
        "features": list(spec.features), "mean": [round(v, 10) for v in scaler.mean_.tolist()],
        "scale": [round(v, 10) for v in scaler.scale_.tolist()],
        "weights": [round(v, 10) for v in regression.coef_[0].tolist()], "intercept": round(float(regression.intercept_[0]), 10)}
    record.train_seconds = round(time.perf_counter() - started, 3)
    return record, pipeline


def score(client, record: TrainedModel, run_id: str) -> None:
    """Today's customers (as of D) scored by the recorded model, into model_scores under this run's id: one
    INSERT ... SELECT, so the customers and their features stay in the engine."""
    started = time.perf_counter()
    client.command(
        f"INSERT INTO {relation(SCORES)} (run_id, as_of, tag_key, customer_id, score) "
        f"SELECT {{run_id:String}}, {{day:Date}}, {{tag_key:String}}, customer_id, "
        f"round({_score_expression(record.coefficients)}, 6) "
        f"FROM ({_feature_query(record.spec.features, with_label=False)})",
        parameters={"run_id": run_id, "day": record.as_of, "tag_key": record.spec.tag_key, "seed": record.spec.seed},
        settings={"join_use_nulls": 0})
    record.scored = int(client.command(
        f"SELECT count() FROM {relation(SCORES)} WHERE run_id = {{run_id:String}} AND tag_key = {{tag_key:String}}",
        parameters={"run_id": run_id, "tag_key": record.spec.tag_key}))
    record.score_seconds = round(time.perf_counter() - started, 3)


def record_version(client, record: TrainedModel, run_id: str) -> None:
    """One row of model_versions: the model, its metrics and what it was trained on (also when it failed)."""
    spec = record.spec
    row = [run_id, spec.tag_key, record.version, dt.datetime.now().replace(microsecond=0), record.as_of,
           record.train_as_of, spec.target, spec.horizon_days, list(spec.features), spec.seed,
           spec.shuffle_target_seed, record.train_rows, record.validation_rows, record.positive_rate,
           record.validation_auc, spec.min_auc, json.dumps(record.coefficients), record.error, record.scored,
           record.train_seconds, record.score_seconds]
    client.insert(relation(VERSIONS), [row], column_names=[
        "run_id", "tag_key", "version", "trained_at", "as_of", "train_as_of", "target", "horizon_days", "features",
        "seed", "shuffle_target_seed", "train_rows", "validation_rows", "positive_rate", "validation_auc", "min_auc",
        "coefficients", "error", "scored_customers", "train_seconds", "score_seconds"])


def create_tables(client) -> None:
    """The two tables of the model step (the dbt sources model_runs.*). Scores are needed by their run's build
    only: kept 7 days. Versions are kept."""
    client.command(f"CREATE DATABASE IF NOT EXISTS {relation(SCORES).split('.')[0]}")  # a warehouse dbt never built
    client.command(f"""
        CREATE TABLE IF NOT EXISTS {relation(SCORES)} (
            run_id String, as_of Date, tag_key LowCardinality(String), customer_id String, score Float64,
            written_at DateTime DEFAULT now())
        ENGINE = MergeTree ORDER BY (run_id, tag_key, customer_id) TTL written_at + INTERVAL 7 DAY""")
    client.command(f"""
        CREATE TABLE IF NOT EXISTS {relation(VERSIONS)} (
            run_id String, tag_key LowCardinality(String), version String, trained_at DateTime, as_of Date,
            train_as_of Date, target String, horizon_days UInt16, features Array(String), seed UInt64,
            shuffle_target_seed Nullable(UInt64), train_rows UInt64, validation_rows UInt64, positive_rate Float64,
            validation_auc Nullable(Float64), min_auc Float64, coefficients String, error String,
            scored_customers UInt64, train_seconds Float64, score_seconds Float64)
        ENGINE = MergeTree ORDER BY (tag_key, as_of, run_id)""")


def run(client, as_of: dt.date, run_id: str, specs: list[ModelSpec] | None = None) -> list[TrainedModel]:
    """Train, validate, score and record every model tag for one run. A model that cannot be trained is recorded with
    its error and scores nobody: its auc check fails and holds the tag (nothing unchecked is published)."""
    create_tables(client)
    done = []
    for spec in model_specs() if specs is None else specs:
        record, pipeline = train(client, spec, as_of)
        if pipeline is not None:
            score(client, record, run_id)
        record_version(client, record, run_id)
        done.append(record)
    return done
