"""The tag catalog (seeds/tag_catalog.csv): reading it and checking it before anything is built.

One row per tag. A `rule` tag is a ClickHouse expression over the feature mart (one row per
customer) with its thresholds written as `{name}` placeholders and their values in `params`,
for example `orders_180d >= {min_orders}` with `min_orders=3`. The dbt macro substitutes the
params the same way in Jinja; `render_rule` is the Python twin used here and in tests.

`validate` runs without a warehouse. It catches what a person editing the CSV gets wrong (typos in
feature names, bad thresholds, names that break the naming rules) and anything in a rule that
would read outside the customer's feature row. The exact return type of a rule (UInt8 for a flag,
String for a label, a number for a number) is checked again in the warehouse at build time by the
macro; here only what sqlglot can tell for sure is checked.

Decisions the rest of the pipeline relies on:
- Every problem is an error (also params given but not used): one list, nothing is published
  from a catalog with errors, and an unused param is almost always a misspelt placeholder.
- Placeholders are `{name}`; params are `name=value` pairs separated by `;`, spaces around `;`
  and `=` ignored. A value is a number (`3`, `0.8`, `-1`) or a single-quoted string without
  quotes, backslashes or semicolons inside (`'none'`), so a plain text replacement of `{name}`
  by the value as written is safe in Jinja too.
- A rule is one expression: no semicolons, no comments, no subqueries, no table reads, no table
  functions or dictionary/join lookups, only unqualified feature columns, and nothing that reads
  the clock or chance (now(), today(), rand(), ...): replaying a past as_of gives the same tags.
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

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from orchestration.settings import PROJECT_DIR

CATALOG_FILE = PROJECT_DIR / "seeds" / "tag_catalog.csv"
# Hand-written models of `sql` tags: models/tags/custom/tag_<key>.sql.
CUSTOM_MODELS_DIR = PROJECT_DIR / "models" / "tags" / "custom"

# The columns of tag_catalog.csv, in this order.
COLUMNS = (
    "tag_key", "tag_name", "category", "method", "value_type", "rule", "params", "owner", "description",
    "status", "coverage_min", "coverage_max", "blocking_checks", "when_blocked", "updated_by", "updated_at",
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
METHODS = ("rule", "rfm", "score", "manual", "sql")
VALUE_TYPES = ("flag", "label", "number")
STATUSES = ("active", "deprecated", "archived")
# The kinds of quality check (one row each, naming the dbt generic test that asserts it): a new kind
# is one test macro in macros/tests/quality/ and one row here (orchestration/quality.py).
QUALITY_CHECKS_FILE = PROJECT_DIR / "seeds" / "quality_checks.csv"
QUALITY_CHECK_COLUMNS = ("check", "test", "methods", "description")
DEFAULT_BLOCKING_CHECKS = ("coverage", "accuracy")
# What a failed blocking check holds back: hold_tag, the tag alone (it keeps its last published
# values, flagged stale, while the other tags publish); hold_night, the whole run (nothing publishes).
WHEN_BLOCKED = ("hold_tag", "hold_night")
MAX_TAG_NAME_LENGTH = 20
# Column names of the wide profile besides one per tag, and the keywords of audience expressions
# (orchestration/audience_expression.py): a tag may not take them.
RESERVED_TAG_KEYS = ("as_of", "customer_id", "and", "or", "not", "in")
# The params of a score tag (see macros/tags/score_tag.sql): weights that sum to 1, and positive caps.
SCORE_WEIGHTS = ("w_recency", "w_frequency", "w_monetary", "w_engagement", "w_tier")
SCORE_CAPS = ("recency_days", "frequency_cap", "monetary_cap")

# Value types a method may produce (rule and sql tags may produce any).
METHOD_VALUE_TYPES = {
    "rule": VALUE_TYPES,
    "rfm": ("label", "number"),
    "score": ("number",),
    "manual": ("flag",),
    "sql": VALUE_TYPES,
}

# The feature mart a rule reads, one row per customer as of as_of: name -> ClickHouse type.
# Must equal models/features/customer_features.yml (a test will enforce that once the model exists).
FEATURE_COLUMNS: dict[str, str] = {
    "customer_id": "String",
    "as_of": "Date",
    "signup_at": "DateTime",
    "source_channel": "String",
    "country": "String",
    "member_tier": "String",
    "segment": "String",
    "age_band": "String",
    "first_order_at": "Nullable(DateTime)",
    "last_order_at": "Nullable(DateTime)",
    "days_since_first_order": "Nullable(Int32)",
    "days_since_last_order": "Nullable(Int32)",
    "orders_30d": "UInt32",
    "orders_60d": "UInt32",
    "orders_90d": "UInt32",
    "orders_180d": "UInt32",
    "orders_365d": "UInt32",
    "orders_total": "UInt32",
    "spend_30d": "Float64",
    "spend_60d": "Float64",
    "spend_90d": "Float64",
    "spend_180d": "Float64",
    "spend_365d": "Float64",
    "spend_total": "Float64",
    "avg_order_value": "Float64",
    "max_order_amount_365d": "Float64",
    "category_share": "Map(String, Float64)",
    "top_category": "String",
    "top_category_share": "Float64",
    "category_orders": "Map(String, UInt32)",
    "category_enquiries_90d": "Map(String, UInt32)",
    "has_order_awaiting_payment": "UInt8",
    "has_order_paid_awaiting_shipment": "UInt8",
    "has_order_in_transit": "UInt8",
    "days_since_last_completed": "Nullable(Int32)",
    "messages_sent_90d": "UInt32",
    "replies_90d": "UInt32",
    "broadcast_reply_rate_90d": "Float64",
    "reply_rate_7d": "Float64",
    "replied_within_24h_rate": "Float64",
    "emails_sent_90d": "UInt32",
    "email_open_rate_90d": "Float64",
    "pricing_page_views_30d": "UInt32",
    "open_complaints": "UInt32",
    "complaints_resolved_30d": "UInt32",
    "open_urgent_tickets": "UInt32",
    "last_campaign_responded": "UInt8",
    "consent_email": "UInt8",
    "consent_sms": "UInt8",
    "consent_whatsapp": "UInt8",
    "consent_push": "UInt8",
}

# Functions that read outside the customer's feature row: table functions (files, URLs, other
# servers, object stores, generated tables), dictionary and Join-engine lookups, table metadata,
# and sleep (a rule must not be able to stall the nightly build). Compared lower-case.
FORBIDDEN_FUNCTIONS = frozenset(name.lower() for name in (
    "file", "fileCluster", "url", "urlCluster", "remote", "remoteSecure", "cluster", "clusterAllReplicas",
    "s3", "s3Cluster", "gcs", "azureBlobStorage", "azureBlobStorageCluster", "hdfs", "hdfsCluster",
    "input", "numbers", "numbers_mt", "zeros", "zeros_mt", "generateRandom", "generate_series", "executable",
    "mysql", "postgresql", "mongodb", "redis", "sqlite", "jdbc", "odbc", "merge", "loop", "view", "values",
    "dictionary", "iceberg", "icebergS3", "deltaLake", "hudi", "hasColumnInTable", "sleep", "sleepEachRow",
))
FORBIDDEN_FUNCTION_PREFIXES = ("dictget", "dicthas", "dictisin", "joinget")

# Nodes that read another relation or are not part of a scalar expression over one row.
FORBIDDEN_NODES = (exp.Query, exp.Subquery, exp.Table, exp.Exists, exp.Star, exp.Placeholder, exp.Parameter)

# The clock and chance: a rule using them gives another answer when a past as_of is replayed
# (time enters only through the features, computed as of as_of). Lower-case names and prefixes.
UNREPEATABLE_FUNCTIONS = frozenset((
    "now", "now64", "nowinblock", "today", "yesterday", "utctimestamp", "generateuuidv4", "generateuuidv7",
    "rownumberinblock", "rownumberinallblocks", "blocknumber",
))
UNREPEATABLE_FUNCTION_PREFIXES = ("rand",)  # rand, rand64, randCanonical, randomString, randNormal, ...
# The functions a rule may call (lower-case): deterministic functions of one feature row. Anything
# else is refused by name, so a new ClickHouse function that reads the clock, a file, a setting or
# the server (initialQueryStartTime, catboostEvaluate, getSetting, hostName, throwIf, ...) is out
# until someone adds it here on purpose. intDiv and modulo are left out: they fail the whole
# build when one customer's divisor is 0 (intDivOrZero and moduloOrZero do not).
RULE_FUNCTIONS = frozenset(name.lower() for name in (
    # conditions and nulls
    "if", "multiIf", "ifNull", "nullIf", "coalesce", "isNull", "isNotNull", "assumeNotNull", "toNullable",
    "isFinite", "isInfinite", "isNaN", "and", "or", "not", "xor",
    "equals", "notEquals", "less", "greater", "lessOrEquals", "greaterOrEquals",
    # numbers
    "plus", "minus", "multiply", "divide", "intDivOrZero", "moduloOrZero", "negate", "abs", "sign", "round",
    "roundBankers", "floor", "ceil", "ceiling", "trunc", "truncate", "sqrt", "cbrt", "exp", "log", "ln", "log2",
    "log10", "pow", "power", "greatest", "least",
    # conversions
    "cast", "toString", "toInt8", "toInt16", "toInt32", "toInt64", "toUInt8", "toUInt16", "toUInt32", "toUInt64",
    "toFloat32", "toFloat64", "toDecimal32", "toDecimal64", "toDate", "toDateTime", "toInt64OrZero",
    "toFloat64OrZero", "toInt64OrNull", "toFloat64OrNull", "toBool",
    # text
    "lower", "upper", "lowerUTF8", "upperUTF8", "length", "lengthUTF8", "empty", "notEmpty", "concat", "substring",
    "substr", "left", "right", "startsWith", "endsWith", "position", "positionCaseInsensitive", "like", "ilike",
    "notLike", "notILike", "match", "trim", "trimBoth", "trimLeft", "trimRight", "replace", "replaceAll", "replaceOne",
    "splitByChar",
    # arrays, maps and tuples
    "has", "hasAny", "hasAll", "indexOf", "arrayMax", "arrayMin", "arraySum", "arrayAvg", "arrayExists", "arrayAll",
    "arrayCount", "arrayFilter", "arrayMap", "arraySort", "arrayReduce", "arrayElement", "array", "tuple",
    "tupleElement", "map", "mapKeys", "mapValues", "mapAdd", "mapContains", "mapContainsKey",
    # dates of the features (the clock itself is refused above)
    "toYear", "toMonth", "toDayOfMonth", "toDayOfWeek", "toStartOfMonth", "toStartOfWeek", "toYYYYMM", "dateDiff",
    "addDays", "subtractDays",
))
# arrayReduce names its aggregate as text: only these.
RULE_AGGREGATES = frozenset(("min", "max", "sum", "avg", "count", "any", "argmin", "argmax", "uniqexact"))
# Words a tokenizer sees before "(" that are operators, not calls.
NOT_CALLS = frozenset(("in", "not", "and", "or", "is", "between", "like", "ilike", "then", "else", "when", "case",
                       "exists", "select", "as", "interval"))
# Jinja's delimiters: every text cell of the catalog and the audiences is data, and dbt renders the
# descriptions it is given (env_var(), run_query() would run and their output reach BI's comments).
TEMPLATE_MARKERS = ("{{", "}}", "{%", "%}", "{#", "#}")

UNREPEATABLE_NODES = (exp.CurrentDate, exp.CurrentTimestamp, exp.CurrentTime, exp.CurrentDatetime, exp.UtcTimestamp,
                      exp.Rand, exp.Randn, exp.Randstr, exp.Uuid)

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


def validate(rows: list[CatalogRow]) -> list[CatalogError]:
    """Every problem in the catalog, in file order; an empty list means it may be published."""
    errors: list[CatalogError] = []
    first_line_of_key: dict[str, int] = {}
    first_line_of_name: dict[str, int] = {}
    for row in rows:
        errors.extend(row.load_errors)
        row_errors = _validate_row(row)
        if row.tag_key in first_line_of_key:
            row_errors.insert(0, ("tag_key", f"duplicate tag_key, first used on line {first_line_of_key[row.tag_key]}"))
        else:
            first_line_of_key[row.tag_key] = row.row_number
        name = row.tag_name.lower()
        if name in first_line_of_name:
            first = first_line_of_name[name]
            row_errors.append(("tag_name", f"duplicate tag_name {row.tag_name!r}, first used on line {first}"))
        elif name:
            first_line_of_name[name] = row.row_number
        errors.extend(
            CatalogError(row.row_number, row.tag_key, column, message, row.file) for column, message in row_errors
        )
    return errors


def _validate_row(row: CatalogRow) -> list[tuple[str, str]]:
    """(column, message) for each problem of one row, apart from load errors and duplicates."""
    problems: list[tuple[str, str]] = []
    loaded_badly = {e.column for e in row.load_errors}

    def add(column: str, message: str) -> None:
        problems.append((column, message))

    if not TAG_KEY.fullmatch(row.tag_key):
        add("tag_key", f"{row.tag_key!r} is not snake_case (lowercase letters, digits, single underscores)")
    elif row.tag_key in RESERVED_TAG_KEYS:
        add("tag_key", f"{row.tag_key!r} is a column of every tag table; choose another key")

    problems.extend(_check_tag_name(row))

    enumerations = (("category", CATEGORIES), ("method", METHODS), ("value_type", VALUE_TYPES), ("status", STATUSES))
    for column, allowed in enumerations:
        value = getattr(row, column)
        if value not in allowed:
            add(column, f"unknown {column} {value!r}; one of {', '.join(allowed)}")
    if row.method in METHODS and row.value_type in VALUE_TYPES and row.value_type not in METHOD_VALUE_TYPES[row.method]:
        possible = " or ".join(METHOD_VALUE_TYPES[row.method])
        add("value_type", f"{row.method} tags have value_type {possible}, not {row.value_type}")

    for column in ("owner", "description", "updated_by"):
        if not getattr(row, column).strip():
            add(column, f"{column} is missing")

    if row.method == "rule":
        if not row.rule.strip():
            add("rule", "a rule tag needs a rule")
        else:
            problems.extend(_check_rule(row))
    elif row.method in METHODS and row.rule.strip():
        add("rule", f"a {row.method} tag is computed elsewhere; leave rule empty (it would be ignored)")
    if row.method == "score" and "params" not in loaded_badly:
        problems.extend(_check_score_params(row))
    if row.method == "sql" and TAG_KEY.fullmatch(row.tag_key) and row.status != "archived":
        model = CUSTOM_MODELS_DIR / f"tag_{row.tag_key}.sql"
        if not model.exists():
            add("method", f"a sql tag is a hand-written model, and {model.relative_to(PROJECT_DIR)} does not exist")

    problems.extend(_check_coverage(row, loaded_badly))

    if not row.blocking_checks:
        add("blocking_checks", f"blocking_checks is missing (the default is {';'.join(DEFAULT_BLOCKING_CHECKS)})")
    known = [kind.check for kind in quality_checks()]
    for check in row.blocking_checks:
        if check not in known:
            add("blocking_checks", f"unknown check {check!r}; one of {', '.join(known)} ({QUALITY_CHECKS_FILE.name})")
    if row.when_blocked not in WHEN_BLOCKED:
        add("when_blocked", f"unknown when_blocked {row.when_blocked!r}; one of {', '.join(WHEN_BLOCKED)} "
                            "(hold_tag: the tag keeps its last published values; hold_night: nothing is published)")

    if row.updated_at is None and "updated_at" not in loaded_badly:
        add("updated_at", "updated_at is missing (YYYY-MM-DD of the last change)")
    return problems


def _check_score_params(row: CatalogRow) -> list[tuple[str, str]]:
    problems = []
    expected = SCORE_WEIGHTS + SCORE_CAPS
    for name in expected:
        if not isinstance(row.params.get(name), (int, float)):
            problems.append(("params", f"a score tag needs the number param {name!r}"))
    for name in row.params:
        if name not in expected:
            problems.append(("params", f"param {name!r} is not a score param; they are {', '.join(expected)}"))
    if problems:
        return problems
    if any(not 0 <= row.params[name] <= 1 for name in SCORE_WEIGHTS):
        problems.append(("params", "score weights must each be between 0 and 1"))
    total = sum(row.params[name] for name in SCORE_WEIGHTS)
    if abs(total - 1) > 1e-9:
        problems.append(("params", f"score weights must sum to 1 (so the score runs 0-100), they sum to {total:g}"))
    for name in SCORE_CAPS:
        if row.params[name] <= 0:
            problems.append(("params", f"{name} must be above 0"))
    return problems


def _check_tag_name(row: CatalogRow) -> list[tuple[str, str]]:
    name, problems = row.tag_name, []
    if len(name) > MAX_TAG_NAME_LENGTH:
        problems.append(("tag_name", f"{name!r} is {len(name)} characters; at most {MAX_TAG_NAME_LENGTH}"))
    match = TAG_NAME.fullmatch(name)
    if not match:
        problems.append(("tag_name", f"{name!r} is not in \"category-attribute\" form, e.g. \"value-VIP\""))
    elif row.category in CATEGORIES and match.group(1) != CATEGORIES[row.category]:
        prefix = CATEGORIES[row.category]
        problems.append(("tag_name", f"{name!r}: names of {row.category} tags start with \"{prefix}-\""))
    return problems


def _check_coverage(row: CatalogRow, loaded_badly: set[str]) -> list[tuple[str, str]]:
    problems = []
    for column in ("coverage_min", "coverage_max"):
        value = getattr(row, column)
        if value is None:
            if column not in loaded_badly:
                problems.append((column, f"{column} is missing (expected share of customers, 0..1)"))
        elif not 0 <= value <= 1:
            problems.append((column, f"{value} is outside 0..1 (a share of customers)"))
    if row.coverage_min is not None and row.coverage_max is not None and row.coverage_min > row.coverage_max:
        problems.append(("coverage_max", f"coverage_min {row.coverage_min} is above coverage_max {row.coverage_max}"))
    return problems


def _check_rule(row: CatalogRow) -> list[tuple[str, str]]:
    """Placeholders against params, then the rendered rule as one safe ClickHouse expression."""
    problems: list[tuple[str, str]] = []
    used = PLACEHOLDER.findall(row.rule)
    for name in dict.fromkeys(used):
        if name not in row.params:
            problems.append(("rule", f"placeholder {{{name}}} has no value in params"))
    for name in row.params:
        if name not in used:
            problems.append(("params", f"param {name!r} is not used by the rule (a misspelt placeholder?)"))
    if any(column == "rule" for column, _ in problems):
        return problems  # cannot render; an unsubstituted {x} would parse as a map literal

    sql = render_rule(row)
    try:
        tokens = sqlglot.Dialect.get_or_raise("clickhouse").tokenize(sql)
    except TokenError as error:
        return problems + [("rule", f"is not one ClickHouse expression: {_parse_problem(error)}")]
    if any(token.token_type == TokenType.SEMICOLON for token in tokens):
        return problems + [("rule", "semicolons are not allowed: a rule is one expression")]
    if any(token.comments for token in tokens):
        return problems + [("rule", "comments are not allowed in a rule (put the explanation in description)")]
    problems.extend(("rule", message) for message in _check_calls(tokens))
    try:
        # Parsing into a Condition accepts exactly one expression: statements, aliases and
        # trailing clauses (FROM, SETTINGS, FORMAT, ...) fail here.
        tree = sqlglot.parse_one(sql, read="clickhouse", into=exp.Condition)
    except (ParseError, TokenError) as error:
        return problems + [("rule", f"is not one ClickHouse expression: {_parse_problem(error)}")]

    problems.extend(("rule", message) for message in _check_tree(tree))
    if not any(column == "rule" for column, _ in problems):
        kind = _kind(tree)
        if kind is not None and kind != row.value_type and row.value_type in VALUE_TYPES:
            problems.append(("value_type", f"value_type is {row.value_type} but the rule returns {KIND_WORDS[kind]}"))
    return problems


def _check_tree(tree: exp.Expression) -> list[str]:
    messages: list[str] = []
    unknown: list[str] = []
    # Prune below a forbidden node: one message for `(SELECT ...)`, not one per part of it.
    for node in tree.walk(prune=lambda node: isinstance(node, FORBIDDEN_NODES)):
        if isinstance(node, FORBIDDEN_NODES):
            messages.append(f"{node.sql('clickhouse')!r}: subqueries, tables and query parameters are not allowed; "
                            "a rule reads only the customer's feature columns")
        elif isinstance(node, exp.Anonymous) and _forbidden_function(node.name):
            messages.append(f"function {node.name}() reads outside the feature mart and is not allowed")
        elif isinstance(node, UNREPEATABLE_NODES) or (
            isinstance(node, exp.Anonymous) and _unrepeatable_function(node.name)
        ):
            messages.append(f"{node.sql('clickhouse')!r} depends on the clock or on chance; a rule must give the same "
                            "answer when an as_of is replayed (use the features, e.g. days_since_last_order, or as_of)")
        elif isinstance(node, exp.Column):
            if node.table:
                messages.append(
                    f"{node.sql('clickhouse')!r}: columns are plain feature names, without table or database"
                )
            elif node.name not in FEATURE_COLUMNS and node.name not in unknown:
                unknown.append(node.name)
    messages.extend(f"unknown feature {name!r}" for name in unknown)
    return messages


def _check_calls(tokens) -> list[str]:
    """Every function the rule calls must be on RULE_FUNCTIONS (named when it is not), integer division
    and modulo are refused (a zero divisor fails the build), arrayReduce takes a RULE_AGGREGATES name."""
    messages: list[str] = []
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        word = token.text.lower()
        calls = following is not None and following.token_type == TokenType.L_PAREN
        if token.token_type in (TokenType.MOD, TokenType.DIV) or (word in ("div", "mod") and not calls) or (
                word in ("intdiv", "modulo") and calls):
            messages.append(f"{token.text!r} (integer division or modulo) fails the whole build when a divisor is 0; "
                            "use intDivOrZero() or moduloOrZero(), or / for a fraction")
            continue
        if following is None or following.token_type != TokenType.L_PAREN or not re.fullmatch(r"\w+", token.text):
            continue
        if word in NOT_CALLS or word in RULE_FUNCTIONS:
            if word == "arrayreduce":
                aggregate = tokens[index + 2] if index + 2 < len(tokens) else None
                if aggregate is None or aggregate.token_type != TokenType.STRING or aggregate.text.lower() not in RULE_AGGREGATES:
                    messages.append(f"arrayReduce() takes one of the aggregates {', '.join(sorted(RULE_AGGREGATES))} "
                                    "as quoted text")
            continue
        if _forbidden_function(token.text) or _unrepeatable_function(token.text):
            continue  # named by _check_tree with the reason
        messages.append(f"function {token.text}() is not one a rule may call: rules use deterministic functions of the "
                        "customer's feature row only (catalog.RULE_FUNCTIONS lists them)")
    return list(dict.fromkeys(messages))


def template_problems(cells: dict[str, str]) -> list[tuple[str, str]]:
    """(column, message) for every cell holding a Jinja delimiter: catalog and audience cells are data."""
    problems = []
    for column, value in cells.items():
        marker = next((m for m in TEMPLATE_MARKERS if m in value), None)
        if marker:
            problems.append((column, f"{marker!r} is not allowed: this cell is text, never a template "
                                     "(dbt would run it as Jinja)"))
    return problems


def _forbidden_function(name: str) -> bool:
    lowered = name.lower()
    return lowered in FORBIDDEN_FUNCTIONS or lowered.startswith(FORBIDDEN_FUNCTION_PREFIXES)


def _unrepeatable_function(name: str) -> bool:
    lowered = name.lower()
    return lowered in UNREPEATABLE_FUNCTIONS or lowered.startswith(UNREPEATABLE_FUNCTION_PREFIXES)


# What a rule clearly returns, as far as the syntax tree tells; None when it cannot tell.
KIND_WORDS = {"flag": "a condition (0/1)", "label": "a string", "number": "a number"}
BOOLEAN_NODES = (
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ, exp.NullSafeNEQ, exp.And, exp.Or,
    exp.Not, exp.In, exp.Between, exp.Is, exp.Like, exp.ILike, exp.RegexpLike, exp.Boolean, exp.ArrayContains,
)
NUMBER_NODES = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.IntDiv, exp.Mod, exp.Neg)
STRING_NODES = (exp.DPipe, exp.Concat, exp.Lower, exp.Upper)


def _kind(node: exp.Expression) -> str | None:
    """flag, label or number when the expression clearly returns one; None when unsure.

    Only sure cases: comparisons and logic are flags, arithmetic is a number, string literals and
    concatenation are labels, a bare feature column has its declared type, and if/multiIf/ifNull/
    coalesce return what all their known branches agree on. Literals 0 and 1 fit flags and numbers.
    """
    if isinstance(node, exp.Paren):
        return _kind(node.this)
    if isinstance(node, BOOLEAN_NODES):
        return "flag"
    if isinstance(node, NUMBER_NODES):
        return "number"
    if isinstance(node, STRING_NODES):
        return "label"
    if isinstance(node, exp.Literal):
        if node.is_string:
            return "label"
        return None if node.this in ("0", "1") else "number"
    if isinstance(node, exp.Column) and not node.table:
        return _column_kind(FEATURE_COLUMNS.get(node.name, ""))
    if isinstance(node, exp.If):
        return _agree([node.args.get("true"), node.args.get("false")])
    if isinstance(node, exp.Case):
        return _agree([branch.args.get("true") for branch in node.args.get("ifs", [])] + [node.args.get("default")])
    if isinstance(node, exp.Coalesce):
        return _agree([node.this, *node.expressions])
    if isinstance(node, exp.Anonymous) and node.name.lower() == "multiif":
        arguments = node.expressions
        return _agree(arguments[1:-1:2] + arguments[-1:])
    return None


def _agree(branches: list[exp.Expression | None]) -> str | None:
    kinds = {_kind(branch) for branch in branches if branch is not None and not isinstance(branch, exp.Null)}
    kinds.discard(None)
    return kinds.pop() if len(kinds) == 1 else None


def _column_kind(clickhouse_type: str) -> str | None:
    nullable = re.fullmatch(r"Nullable\((.*)\)", clickhouse_type)
    inner = nullable.group(1) if nullable else clickhouse_type
    if inner in ("UInt8", "Bool"):
        return "flag"
    if inner in ("String", "LowCardinality(String)"):
        return "label"
    if re.fullmatch(r"U?Int\d+|Float\d+|Decimal.*", inner):
        return "number"
    return None


def _parse_problem(error: ParseError | TokenError) -> str:
    """Where sqlglot stopped, e.g. "unexpected 'FROM' (character 16)"; statements, aliases and
    clauses after the expression (FROM, SETTINGS, FORMAT, ...) all stop it."""
    details = getattr(error, "errors", None)
    if not details:
        return "unterminated string or quoted name" if "tokenizing" in str(error) else str(error).splitlines()[0]
    first = details[0]
    description, near = first["description"], first["highlight"]
    if description.startswith("Invalid expression"):
        what = "unexpected"
    elif description.startswith("Required keyword"):
        what = "incomplete at"
    else:
        what = f"{description.lower()} near"
    return f"{what} {near!r} (character {first['col'] - len(near) + 1})"
