"""great-expectations on a run's tag rows, run as SQL inside ClickHouse, with Data Docs that work offline.

Two suites, generated from the catalog rows at every run, validate one run's rows in the tag store:
- `tag_snapshots` (the long table, batch: the run's as_of and run_id): no missing key (customer_id
  neither NULL nor empty, tag_key one of the built tags), at most as many customers as the feature mart
  has, and per tag its values: a flag is '1', a label (or each value of a labels tag) one of the values its
  catalog row allows (below);
- `profile_snapshots` (the wide rows of the same run): one row per customer of the feature mart
  (customer_id unique, as many rows as features.customer_features) and every number tag within the
  bounds its catalog row gives (below; the profile holds numbers typed, the long table as text).

What the catalog says about values (it has no list of a label's values, nor a range per number):
- a rule label or labels: the values its rule (catalog rule with its params, as the dbt macro renders it) yields
  over the run's feature mart, computed in ClickHouse: a stored value no customer's features give is
  not the rule's. Left out when the rule yields more than MAX_LABEL_VALUES values (not a label set);
- an rfm label: the segments the RFM method declares (accepted values of int_customer_rfm.segment,
  models/tags/methods/_methods.yml); an rfm number: R*100 + F*10 + M with each score in the accepted
  values declared there (111..555);
- a score number: 0 to 100 x the sum of its weights (params), as macros/tags/score_tag.sql computes it;
- a model label: one of its bands, high, medium, low (macros/tags/model_tag.sql);
- sql labels and rule or sql numbers: nothing is declared, so nothing is checked beyond the keys.

Everything runs in ClickHouse: a GX SQL datasource on the warehouse through clickhouse-connect's own
SQLAlchemy dialect (`clickhousedb`, already installed: GX needs no dialect of its own for these
expectations). The assets are tables split into batches by (as_of, run_id), not queries: GX learns a
query asset's columns by running the query whole and fetching every row (column_reflection_fallback in
great_expectations/expectations/metrics/util.py), a table's by DESCRIBE TABLE. Each metric is one
aggregate query; only samples of unexpected values (at most 20 rows) come back to Python.

One checkpoint per run (named by the run id) writes the results to the GX project in
reports/quality/gx/ and updates its Data Docs; the results and pages of the newest KEPT_RUNS runs are kept
(GX lists every stored result to write the Data Docs index: with 350 runs stored a validation took 5.3-5.4 s,
with 30 2.8-3.1 s, at 10,000 customers). GX writes the pages to load bootstrap, jQuery, Font
Awesome and more from CDNs: `offline_data_docs` points every page at copies vendored in
orchestration/quality/data_docs_static/ (licences beside them), so the pages work without a network.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import yaml
from filelock import FileLock

from orchestration import settings
from orchestration.relations import relation
from orchestration.catalog import catalog, catalog_sync
from orchestration.models import model_tags

# The GX project of the quality checks (shared with quality.py's figures suite, hence its lock).
GX_PROJECT_DIR = settings.PROJECT_DIR / "reports" / "quality"
DATASOURCE = "warehouse"
CHECKPOINT = "tag_rows"
ASSETS = ("tag_snapshots", "profile_snapshots")  # tables of tag_store, and the dbt models that build them
BATCH_COLUMNS = ("as_of", "run_id")  # as_of first: the tables are partitioned by it and ordered by both
MAX_LABEL_VALUES = 1000
# Runs whose validation results and Data Docs pages stay in the GX project: a month of nights. Older outcomes stay
# in Dagster's run history (the asset checks' metadata) and in the morning report.
KEPT_RUNS = 31
# The password reaches GX as a config variable of this process only, so the project's
# great_expectations.yml holds `${...}`, never the password itself.
PASSWORD_VARIABLE = "TAGS_GX_WAREHOUSE_PASSWORD"
METHODS_YML = settings.PROJECT_DIR / "models" / "tags" / "methods" / "_methods.yml"

VENDOR_DIR = Path(__file__).resolve().parent / "data_docs_static"
SITE_VENDOR = "static/vendor"  # where the vendored files go inside the Data Docs site
# What GX's page templates (great_expectations/render/view/templates/*.j2) load from CDNs, and the
# vendored copy each becomes. A URL not here fails offline_data_docs, naming the page and the URL.
VENDORED = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap/bootstrap.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table/bootstrap-table-filter-control.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker/bootstrap-datepicker.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "bootstrap-dark/bootstrap-prefers-dark.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "fontawesome/css/all.min.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js/popper.min.js",
}
# vega draws the charts of a few expectations (kl divergence) that these suites never use: its
# scripts are dropped rather than vendored (about 800 kB), and a page that does draw one is refused.
UNUSED_SCRIPTS = ("https://cdn.jsdelivr.net/npm/vega@5", "https://cdn.jsdelivr.net/npm/vega-lite@5",
                  "https://cdn.jsdelivr.net/npm/vega-embed@6")
# The navigation bar's logo: GX ships the same image in the site's static/images/.
LOGO_PREFIX = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"
LOADING_TAG = re.compile(r"<(script|link|img)\b[^>]*>", re.IGNORECASE)
SOURCE_ATTRIBUTE = re.compile(r"""\b(src|href)\s*=\s*(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
CDN_ONLY_ATTRIBUTES = re.compile(r"""\s(integrity|crossorigin)\s*=\s*(["']).*?\2""", re.IGNORECASE | re.DOTALL)


class DataDocsError(RuntimeError):
    """A Data Docs page loads something from the network that is not vendored."""


@dataclass(frozen=True)
class Failure:
    asset: str
    expectation: str
    column: str | None
    tag_key: str | None
    detail: str

    def __str__(self) -> str:
        where = ", ".join(part for part in (self.column and f"column {self.column}",
                                            self.tag_key and f"tag {self.tag_key}") if part)
        return f"{self.asset}: {self.expectation}" + (f" ({where})" if where else "") + f": {self.detail}"


@dataclass(frozen=True)
class Outcome:
    run_id: str
    evaluated: dict[str, int]  # asset -> expectations evaluated
    failures: list[Failure]
    data_docs: Path  # the site's index.html

    @property
    def success(self) -> bool:
        return not self.failures

    def failures_of(self, asset: str) -> list[Failure]:
        return [f for f in self.failures if f.asset == asset]


# --- what the catalog allows ----------------------------------------------------------------------

def _accepted_values(model: str, column: str) -> list:
    """The accepted_values a model's column declares in models/tags/methods/_methods.yml."""
    document = yaml.safe_load(METHODS_YML.read_text())
    (found,) = [m for m in document["models"] if m["name"] == model]
    (declared,) = [c for c in found["columns"] if c["name"] == column]
    for test in declared.get("data_tests", []):
        if isinstance(test, dict) and "accepted_values" in test:
            return list(test["accepted_values"]["arguments"]["values"])
    raise ValueError(f"{METHODS_YML}: {model}.{column} declares no accepted_values")


def label_values(client, row: catalog.CatalogRow) -> list[str] | None:
    """The values a label tag may take (see the module's docstring); None when nothing is declared."""
    if row.method == "rfm":
        return [str(v) for v in _accepted_values("int_customer_rfm", "segment")]
    if row.method == "model":
        return list(model_tags.BANDS)
    if row.method != "rule":
        return None
    # the label's text as macros/tags/tag_value.sql stores it, each element of a labels tag's array; '' is "not tagged"
    value = (f"arrayJoin(arrayMap(value -> toString(value), ({catalog.render_rule(row)})))" if row.value_type == "labels"
             else f"ifNull(toString(({catalog.render_rule(row)})), '')")
    values = client.query(
        f"SELECT arraySort(groupUniqArray({MAX_LABEL_VALUES + 1})(value)) FROM (SELECT {value} AS value "
        f"FROM {relation('customer_features')}) WHERE value != ''").result_rows[0][0]
    return list(values) if len(values) <= MAX_LABEL_VALUES else None


def number_bounds(row: catalog.CatalogRow) -> tuple[float, float] | None:
    """The range a number tag's values lie in (see the module's docstring); None when nothing is declared."""
    if row.method == "score":
        return 0.0, 100.0 * sum(float(row.params[w]) for w in catalog.SCORE_WEIGHTS)
    if row.method == "rfm":
        scores = [int(v) for v in _accepted_values("int_customer_rfm", "r_score")
                  + _accepted_values("int_customer_rfm", "f_score") + _accepted_values("int_customer_rfm", "m_score")]
        return 111.0 * min(scores), 111.0 * max(scores)
    return None


# --- the suites ------------------------------------------------------------------------------------

def build_suites(client, rows: list[catalog.CatalogRow]) -> dict:
    """asset -> its GX suite for this run, generated from the catalog rows (and the run's feature mart)."""
    import great_expectations as gx
    from great_expectations.expectations.row_conditions import Column

    built = catalog_sync.built(rows)
    customers = int(client.command(f"SELECT count() FROM {relation('customer_features')}"))
    expect = gx.expectations

    # the suites are made whole: adding to a suite already in the project saves it at every expectation
    long = [
        expect.ExpectColumnValuesToNotBeNull(column="customer_id", notes="no customer without an id"),
        expect.ExpectColumnValueLengthsToBeBetween(column="customer_id", min_value=1,
                                                   notes="an empty customer_id is a missing key"),
        expect.ExpectColumnValuesToBeInSet(column="tag_key", value_set=sorted(r.tag_key for r in built),
                                           notes="every row is of a built catalog tag"),
        # "a customer has a tag once per run" is dbt's unique_in_run test on tag_snapshots, which fails the build
        # and so publishes nothing. GX's form of it joined every row to its group's count: at 5 M customers one
        # query of 114.6 s and 11.35 GiB (plus 8.2 s listing the unexpected rows) for what the GROUP BY tells.
        expect.ExpectColumnUniqueValueCountToBeBetween(
            column="customer_id", min_value=1, max_value=customers,
            notes=f"tagged customers: at most the {customers} of features.customer_features"),
    ]
    for row in built:
        if row.value_type == "flag":
            values, why = ["1"], "a flag is '1'"
        elif row.value_type in ("label", "labels"):
            values = label_values(client, row)
            why = ("the segments int_customer_rfm declares" if row.method == "rfm"
                   else "the values its catalog rule yields over the run's feature mart")
        else:
            continue  # numbers: typed, in the profile
        if values is not None:
            long.append(expect.ExpectColumnValuesToBeInSet(
                column="tag_value", value_set=values, row_condition=Column("tag_key") == row.tag_key,
                meta={"tag_key": row.tag_key}, notes=f"{row.tag_key}: {why}"))

    wide = [
        expect.ExpectTableRowCountToEqual(value=customers, notes="one row per customer of features.customer_features"),
        expect.ExpectColumnValuesToBeUnique(column="customer_id", notes="one row per customer"),
    ]
    for row in built:
        bounds = number_bounds(row) if row.value_type == "number" and row.status == "active" else None
        if bounds is not None:  # the profile has a column per active tag only
            wide.append(expect.ExpectColumnValuesToBeBetween(
                column=row.tag_key, min_value=bounds[0], max_value=bounds[1], meta={"tag_key": row.tag_key},
                notes=f"{row.tag_key}: {row.method} numbers lie in {bounds[0]:g}..{bounds[1]:g}"))
    return {"tag_snapshots": gx.ExpectationSuite(name="tag_snapshots", expectations=long),
            "profile_snapshots": gx.ExpectationSuite(name="profile_snapshots", expectations=wide)}


# --- running them ----------------------------------------------------------------------------------

def connection_string() -> str:
    """The warehouse as a SQLAlchemy URL of clickhouse-connect's dialect, the password left as a variable;
    its database is the tag store's, where the assets' tables are."""
    conn = settings.connection()
    return (f"clickhousedb://{quote(conn.user, safe='')}:${{{PASSWORD_VARIABLE}}}@{conn.host}:{conn.port}"
            f"/{relation(ASSETS[0]).split('.')[0]}?secure={str(conn.secure).lower()}")


def _context(project_dir: Path):
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    password = quote(settings.connection().password, safe="")
    context = gx.get_context(mode="file", project_root_dir=project_dir, runtime_environment={PASSWORD_VARIABLE: password})
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def validate_run(client, run_id: str, as_of, rows: list[catalog.CatalogRow],
                 project_dir: Path = GX_PROJECT_DIR) -> Outcome:
    """Run this run's checkpoint: both suites on the run's rows, results and offline Data Docs in the GX project."""
    import great_expectations as gx
    from great_expectations.core.partitioners import PartitionerMultiColumnValue

    parameters = {"as_of": str(as_of), "run_id": run_id}
    # GX finds no batch at all for a table without the run's rows: say so instead of its error
    empty = [Failure(name, "rows of the run", None, None, f"{relation(name)} has no row of run {run_id} as of {as_of}")
             for name in ASSETS if not client.command(f"SELECT count() FROM {relation(name)} "
                                                      "WHERE as_of = %(as_of)s AND run_id = %(run_id)s", parameters=parameters)]
    if empty:
        return Outcome(run_id, {}, empty, data_docs_index(project_dir))
    project_dir.mkdir(parents=True, exist_ok=True)
    # one GX project per checkout: refreshes of two warehouses from one checkout take turns in it
    with FileLock(project_dir / "gx.lock"):
        forget_old_runs(project_dir, KEPT_RUNS - 1)  # this run is one of them
        context = _context(project_dir)
        suites = build_suites(client, rows)  # GX builds suites inside a context
        source = context.data_sources.add_or_update_sql(DATASOURCE, connection_string=connection_string())
        definitions = []
        for name in ASSETS:
            asset = source.add_table_asset(name, table_name=name)
            # GX validates only date partitioners here; a column-value one works on any column
            batch = asset.add_batch_definition("run", partitioner=PartitionerMultiColumnValue(column_names=list(BATCH_COLUMNS)),
                                               validate_partitioner=False)
            suite = context.suites.add_or_update(suites[name])
            definitions.append(context.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=name, data=batch, suite=suite)))
        checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
            name=CHECKPOINT, validation_definitions=definitions,
            actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs")]))
        result = checkpoint.run(batch_parameters=parameters, run_id=gx.RunIdentifier(run_name=run_id))
        index = data_docs_index(project_dir)
        offline_data_docs(index.parent)
    evaluated, failures = {}, []
    for validation in result.run_results.values():
        asset = validation.suite_name  # each suite is named by its asset
        evaluated[asset] = len(validation.results)
        failures.extend(_failure(asset, item) for item in validation.results if not item.success)
    return Outcome(run_id, evaluated, failures, index)


def forget_old_runs(project_dir: Path, keep: int) -> list[str]:
    """Remove the validation results and Data Docs pages of all but the newest `keep` runs from the GX project;
    the runs removed. Both stores file a result under <suite>/<run name>/<run time>/ (GX's filesystem layout),
    and a run is as new as its latest run time."""
    gx_dir = project_dir / "gx" / "uncommitted"
    trees = [gx_dir / "validations", gx_dir / "data_docs" / "local_site" / "validations"]
    newest: dict[str, str] = {}
    for run in trees[0].glob("*/*/*"):
        newest[run.parent.name] = max(newest.get(run.parent.name, ""), run.name)
    forgotten = sorted(newest, key=newest.get, reverse=True)[keep:]
    for tree in trees:
        for run_dir in tree.glob("*/*"):
            if run_dir.name in forgotten:
                shutil.rmtree(run_dir)
    return forgotten


def _failure(asset: str, item) -> Failure:
    config = item.expectation_config
    if item.exception_info and item.exception_info.get("raised_exception"):
        detail = f"could not be evaluated: {item.exception_info.get('exception_message')}"
    else:
        found = item.result or {}
        counts = found.get("partial_unexpected_counts")
        if counts:
            detail = f"{found.get('unexpected_count')} unexpected row(s), e.g. " + ", ".join(
                f"{c['value']!r} x{c['count']}" for c in counts[:5])
        elif found.get("unexpected_count"):
            detail = f"{found['unexpected_count']} unexpected row(s)"
        else:
            detail = f"observed {found.get('observed_value')}"
    kwargs = config.kwargs
    column = kwargs.get("column") or (", ".join(kwargs["column_list"]) if kwargs.get("column_list") else None)
    return Failure(asset, config.type, column, (config.meta or {}).get("tag_key"), detail)


# --- Data Docs without a network -------------------------------------------------------------------

def data_docs_index(project_dir: Path = GX_PROJECT_DIR) -> Path:
    """The index.html of the Data Docs site of a GX file project (GX's default local site)."""
    return project_dir / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def offline_data_docs(site: Path) -> None:
    """Copy the vendored files into the site and point every page's CDN loads at them."""
    shutil.copytree(VENDOR_DIR, site / SITE_VENDOR, dirs_exist_ok=True)
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        rewritten = LOADING_TAG.sub(lambda tag: _local_tag(tag.group(0), page, site), text)
        if rewritten != text:
            page.write_text(rewritten, encoding="utf-8")


def _local_tag(tag: str, page: Path, site: Path) -> str:
    source = SOURCE_ATTRIBUTE.search(tag)
    url = source.group(3) if source else ""
    if not re.match(r"(https?:)?//", url):
        return tag
    if url in UNUSED_SCRIPTS:
        if "vegaEmbed" in page.read_text(encoding="utf-8"):
            raise DataDocsError(f"{page}: draws a chart with vega, which is not vendored in {VENDOR_DIR}")
        return "<script>"  # its </script> follows: an empty inline script
    if url in VENDORED:
        local = site / SITE_VENDOR / VENDORED[url]
    elif url.startswith(LOGO_PREFIX):
        local = site / "static" / "images" / urlsplit(url).path.rsplit("/", 1)[-1]
    else:
        raise DataDocsError(f"{page}: loads {url}, which is not vendored; add it to expectations.VENDORED "
                            f"and its file to {VENDOR_DIR}")
    # integrity and crossorigin are for the CDN: a file:// page cannot load a script with crossorigin
    tag = CDN_ONLY_ATTRIBUTES.sub("", tag)
    relative = os.path.relpath(local, page.parent)
    return tag[:source.start(3)] + relative + tag[source.end(3):] if (source := SOURCE_ATTRIBUTE.search(tag)) else tag
