"""The tag catalog (seeds/tag_catalog.csv): reading it and checking it before anything is built.

One row per tag. A `rule` tag is a ClickHouse expression over the feature mart (one row per
customer) with its thresholds written as `{name}` placeholders and their values in `params`,
for example `orders_180d >= {min_orders}` with `min_orders=3`. The row is parsed once, here:
`tags catalog sync` writes the rendered rule and the params into the tag model's meta, which the
dbt macros build from (orchestration/catalog/catalog_sync.py).

Validation (validation.py) runs without a warehouse. It catches what a person editing the CSV gets wrong (typos in
feature names, bad thresholds, names that break the naming rules) and, through rules.py, anything
in a rule that would read outside the customer's feature row.

Decisions the rest of the pipeline relies on:
- Every problem is an error (also params given but not used): one list, nothing is published
  from a catalog with errors, and an unused param is almost always a misspelt placeholder.
- Placeholders are `{name}`; params are `name=value` pairs separated by `;`, spaces around `;`
  and `=` ignored. A value is a number (`3`, `0.8`, `-1`) or a single-quoted string without
  quotes, backslashes or semicolons inside (`'none'`).
- Methods rfm, score, manual and sql are computed elsewhere: their rule must be empty. A score
  tag's params are its weights (summing to 1) and caps; a sql tag's model file must exist. A
  manual tag is a flag; a score tag is a number.
- tag_name is "<prefix>-<attribute>" where the prefix is fixed per category (CATEGORIES), so one
  concept gets one standard name; names are unique and at most 20 characters.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path


from orchestration.settings import PROJECT_DIR

CATALOG_FILE = PROJECT_DIR / "seeds" / "tag_catalog.csv"
# Hand-written models of `sql` tags: models/tags/custom/tag_<key>.sql.
CUSTOM_MODELS_DIR = PROJECT_DIR / "models" / "tags" / "custom"

# The columns of tag_catalog.csv, in this order.
COLUMNS = (
    "tag_key", "tag_name", "category", "method", "value_type", "rule", "params", "owner", "description",
    "status", "coverage_min", "coverage_max", "blocking_checks", "when_blocked", "evaluated_at", "lane", "updated_by", "updated_at",
)

# Category -> the prefix its tag names start with ("txn-awaiting payment"). Short prefixes keep
# names within 20 characters; one fixed prefix per category keeps one standard name per concept.
CATEGORIES = {
    "value": "value",
    "lifecycle": "lifecycle",
    "interest": "interest",
    "engagement": "engage",
    "transaction": "txn",
    "service": "svc",
    "source": "source",
    "attribute": "attr",
    "score": "score",
}
METHODS = ("rule", "rfm", "score", "manual", "sql", "model")
# labels: several labels per customer (the rule returns an array of strings; one row per value in the long
# table, an Array(String) column in the profile, one bitmap per value).
VALUE_TYPES = ("flag", "label", "number", "labels")
STATUSES = ("active", "deprecated", "archived")
# The kinds of quality check (one row each, naming the dbt generic test that asserts it): a new kind
# is one test macro in macros/tests/quality/ and one row here.
QUALITY_CHECKS_FILE = PROJECT_DIR / "seeds" / "quality_checks.csv"
QUALITY_CHECK_COLUMNS = ("check", "test", "methods", "description")
DEFAULT_BLOCKING_CHECKS = ("coverage", "accuracy")
# What a failed blocking check holds back: hold_tag, the tag alone (it keeps its last published
# values, flagged stale, while the other tags publish); hold_night, the whole run (nothing publishes).
WHEN_BLOCKED = ("hold_tag", "hold_night")
# The instant a tag's rule is evaluated at: day_end, the as_of day whole (its end, or the run's cutoff if that
# comes first); cutoff, the run's cutoff (the nightly run's tick, 02:00 the next morning), for the state of open
# orders and tickets. Replays by date have cutoff = end of day, so both give the same there.
EVALUATED_AT = ("day_end", "cutoff")
# When a tag is refreshed: nightly, by the nightly job only; intraday, also by the intraday lane minutes after a load
# (orchestration/dagster/intraday.py), from the rows loaded since, evaluated at that run's cutoff.
LANES = ("nightly", "intraday")
MAX_TAG_NAME_LENGTH = 20
# Column names of the wide profile besides one per tag, and the keywords of audience expressions
# (orchestration/audiences/audience_expression.py): a tag may not take them.
RESERVED_TAG_KEYS = ("as_of", "customer_id", "and", "or", "not", "in", "has")
# The params of a score tag (see macros/tags/score_tag.sql): weights that sum to 1, and positive caps.
SCORE_WEIGHTS = ("w_recency", "w_frequency", "w_monetary", "w_engagement", "w_tier")
SCORE_CAPS = ("recency_days", "frequency_cap", "monetary_cap")

# Value types a method may produce (rule and sql tags may produce any).
METHOD_VALUE_TYPES = {
    "rule": VALUE_TYPES,
    "rfm": ("label", "number"),  # one segment or score per customer
    "score": ("number",),
    "manual": ("flag",),
    "sql": VALUE_TYPES,
    "model": ("label",),  # the band of the model's score: high, medium, low (orchestration/models/model_tags.py)
}

# Jinja's delimiters: every text cell of the catalog and the audiences is data, and dbt renders the
# descriptions it is given (env_var(), run_query() would run and their output reach BI's comments).
TEMPLATE_MARKERS = ("{{", "}}", "{%", "%}", "{#", "#}")

TAG_KEY = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
# "<lowercase prefix>-<attribute>": the attribute starts with a letter or digit and may hold
# words separated by single spaces, and + / & . (e.g. "value-VIP", "txn-awaiting payment").
TAG_NAME = re.compile(r"([a-z]+)-([A-Za-z0-9][A-Za-z0-9+/&.]*(?: [A-Za-z0-9+/&.]+)*)")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
PARAM_NAME = re.compile(r"[a-z][a-z0-9_]*")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
QUOTED = re.compile(r"'([^'\\;]*)'")

ParamValue = int | float | str


@dataclass(frozen=True)
class CatalogError:
    """One problem in one cell of the catalog, named by line, tag and column."""

    row: int
    tag_key: str
    column: str
    message: str
    file: str = "tag_catalog.csv"

    def __str__(self) -> str:
        tag = f" ({self.tag_key})" if self.tag_key else ""
        return f"{self.file} line {self.row}{tag}, column {self.column}: {self.message}"


class CatalogFileError(ValueError):
    """The file cannot be read as a catalog at all (missing, not UTF-8, wrong header)."""


@dataclass(frozen=True)
class CatalogRow:
    """One tag as written in the catalog, with its cells parsed.

    A cell that does not parse becomes None (or empty) and the problem is kept in `load_errors`,
    so that `validate` reports it with everything else instead of `load` stopping at the first one.
    """

    row_number: int  # line of the file the row starts on, for messages
    tag_key: str
    tag_name: str
    category: str
    method: str
    value_type: str
    rule: str
    params: dict[str, ParamValue]
    owner: str
    description: str
    status: str
    coverage_min: float | None
    coverage_max: float | None
    blocking_checks: tuple[str, ...]
    when_blocked: str
    evaluated_at: str
    lane: str
    updated_by: str
    updated_at: dt.date | None
    file: str = "tag_catalog.csv"
    load_errors: tuple[CatalogError, ...] = field(default=(), compare=False, repr=False)

    @property
    def is_active(self) -> bool:
        return self.status == "active"


def parse_params(text: str) -> tuple[dict[str, ParamValue], list[str]]:
    """`min_orders=3;days=180;tier='none'` -> ({...}, problems). Values: numbers or single-quoted strings."""
    params: dict[str, ParamValue] = {}
    problems: list[str] = []
    for pair in text.split(";"):
        if not pair.strip():
            continue  # a trailing ';' is harmless
        name, equals, value = (part.strip() for part in pair.partition("="))
        if not equals:
            problems.append(f"{pair.strip()!r} is not name=value")
            continue
        if not PARAM_NAME.fullmatch(name):
            problems.append(f"param name {name!r} is not snake_case")
            continue
        if name in params:
            problems.append(f"param {name!r} is given twice")
            continue
        if NUMBER.fullmatch(value):
            params[name] = float(value) if "." in value else int(value)
        elif quoted := QUOTED.fullmatch(value):
            params[name] = quoted.group(1)
        else:
            problems.append(
                f"param {name!r}: {value!r} is neither a number nor a single-quoted string "
                "(without quotes, backslashes or semicolons inside)"
            )
    return params, problems


@dataclass(frozen=True)
class QualityCheck:
    """One kind of quality check (seeds/quality_checks.csv): its name, the generic test asserting it,
    the tag methods it applies to (empty: every tag) and what it asserts."""

    check: str
    test: str
    methods: tuple[str, ...]
    description: str

    def applies_to(self, row: CatalogRow) -> bool:
        return not self.methods or row.method in self.methods


def quality_checks(path: Path | str = QUALITY_CHECKS_FILE) -> list[QualityCheck]:
    """The kinds of quality check, in file order; CatalogFileError names the file and line of a bad row."""
    path = Path(path)
    kinds = []
    for line, (check, test, methods, description) in read_csv(path, QUALITY_CHECK_COLUMNS):
        if not TAG_KEY.fullmatch(check.strip()) or not TAG_KEY.fullmatch(test.strip()):
            raise CatalogFileError(f"{path.name} line {line}: check and test must be snake_case names, "
                                   f"got {check!r} and {test!r}")
        kinds.append(QualityCheck(check.strip(), test.strip(),
                                  tuple(m.strip() for m in methods.split(";") if m.strip()), description.strip()))
    return kinds


def load(path: Path | str = CATALOG_FILE) -> list[CatalogRow]:
    """Read the catalog CSV into rows. Raises CatalogFileError only when the file as a whole is unusable."""
    path = Path(path)
    return [_parse_row(cells, line, path.name) for line, cells in read_csv(path, COLUMNS)]


def read_csv(path: Path, columns: tuple[str, ...]) -> list[tuple[int, list[str]]]:
    """(line the row starts on, cells) of every non-blank row of a CSV whose header must be exactly
    `columns`; CatalogFileError when the file is missing, not UTF-8 or has another header."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogFileError(f"{path}: no such file") from None
    except UnicodeDecodeError as error:
        raise CatalogFileError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None

    reader = csv.reader(text.splitlines(keepends=True))
    header = next(reader, None)
    if header is None or tuple(header) != columns:
        raise CatalogFileError(
            f"{path.name} line 1: the header must be exactly {','.join(columns)}; got {','.join(header or [])}"
        )

    rows = []
    previous_line = reader.line_num
    for cells in reader:
        start_line, previous_line = previous_line + 1, reader.line_num  # a quoted cell may span lines
        if any(cell.strip() for cell in cells):
            rows.append((start_line, cells))
    return rows


def _parse_row(cells: list[str], line: int, file: str) -> CatalogRow:
    errors: list[CatalogError] = []
    tag_key = cells[0] if cells else ""

    def error(column: str, message: str) -> None:
        errors.append(CatalogError(line, tag_key, column, message, file))

    if len(cells) != len(COLUMNS):
        error("(row)", f"expected {len(COLUMNS)} cells, got {len(cells)} (a comma in an unquoted cell?)")
        cells = (cells + [""] * len(COLUMNS))[: len(COLUMNS)]
    cell = dict(zip(COLUMNS, cells))

    for column, message in template_problems(cell):
        error(column, message)
    params, problems = parse_params(cell["params"])
    for problem in problems:
        error("params", problem)

    def number(column: str) -> float | None:
        if cell[column].strip() == "":
            return None  # reported as missing by validate
        try:
            return float(cell[column])
        except ValueError:
            error(column, f"{cell[column]!r} is not a number")
            return None

    updated_at = None
    if cell["updated_at"].strip():
        try:
            updated_at = dt.date.fromisoformat(cell["updated_at"].strip())
        except ValueError:
            error("updated_at", f"{cell['updated_at']!r} is not a date written YYYY-MM-DD")

    return CatalogRow(
        row_number=line,
        tag_key=cell["tag_key"],
        tag_name=cell["tag_name"],
        category=cell["category"],
        method=cell["method"],
        value_type=cell["value_type"],
        rule=cell["rule"],
        params=params,
        owner=cell["owner"],
        description=cell["description"],
        status=cell["status"],
        coverage_min=number("coverage_min"),
        coverage_max=number("coverage_max"),
        blocking_checks=tuple(c.strip() for c in cell["blocking_checks"].split(";") if c.strip()),
        when_blocked=cell["when_blocked"].strip(),
        evaluated_at=cell["evaluated_at"].strip() or EVALUATED_AT[0],
        lane=cell["lane"].strip() or LANES[0],
        updated_by=cell["updated_by"],
        updated_at=updated_at,
        file=file,
        load_errors=tuple(errors),
    )


def render_value(value: ParamValue) -> str:
    """A param value as ClickHouse text: numbers as they are, strings as a quoted literal."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"param values are numbers or strings, got {value!r}")
    if isinstance(value, str):
        # ClickHouse string literal: backslash escapes; the catalog's own strings contain neither.
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return repr(value)


def render_rule(row: CatalogRow) -> str:
    """The rule with every `{name}` replaced by its param value; ValueError if a param is missing."""
    missing = [name for name in PLACEHOLDER.findall(row.rule) if name not in row.params]
    if missing:
        raise ValueError(f"{row.tag_key}: rule uses {{{missing[0]}}} but params has no {missing[0]!r}")
    return PLACEHOLDER.sub(lambda match: render_value(row.params[match.group(1)]), row.rule)


def template_problems(cells: dict[str, str]) -> list[tuple[str, str]]:
    """(column, message) for every cell holding a Jinja delimiter: catalog and audience cells are data."""
    problems = []
    for column, value in cells.items():
        marker = next((m for m in TEMPLATE_MARKERS if m in value), None)
        if marker:
            problems.append((column, f"{marker!r} is not allowed: this cell is text, never a template "
                                     "(dbt would run it as Jinja)"))
    return problems
