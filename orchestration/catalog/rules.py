"""Rules of the tag catalog: what a rule may say, checked without a warehouse.

A rule is one ClickHouse expression over the feature mart (one row per customer, its columns and types
documented in models/features/customer_features.yml). It may call only RULE_FUNCTIONS, reads no table,
subquery or dictionary, and nothing that reads the clock or chance: replaying a past as_of gives the
same tags. The exact return type is checked again in the warehouse at build time; here only what
sqlglot can tell for sure.
"""

from __future__ import annotations

import functools
import re

import sqlglot
import yaml
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from orchestration.settings import PROJECT_DIR

FEATURES_YAML = PROJECT_DIR / "models" / "features" / "customer_features.yml"


@functools.cache
def feature_columns() -> dict[str, str]:
    """The feature mart a rule reads, one row per customer as of as_of: column -> ClickHouse type, as its
    YAML documents it (`data_type`; test_features checks the built table against it)."""
    document = yaml.safe_load(FEATURES_YAML.read_text())
    model = next(m for m in document["models"] if m["name"] == "customer_features")
    return {column["name"]: column["data_type"] for column in model["columns"]}

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
    "tupleElement", "map", "mapKeys", "mapValues", "mapAdd", "mapFilter", "arrayDistinct", "mapContains", "mapContainsKey",
    # dates of the features (the clock itself is refused above)
    "toYear", "toMonth", "toDayOfMonth", "toDayOfWeek", "toStartOfMonth", "toStartOfWeek", "toYYYYMM", "dateDiff",
    "addDays", "subtractDays",
))
# arrayReduce names its aggregate as text: only these.
RULE_AGGREGATES = frozenset(("min", "max", "sum", "avg", "count", "any", "argmin", "argmax", "uniqexact"))
# Words a tokenizer sees before "(" that are operators, not calls.
NOT_CALLS = frozenset(("in", "not", "and", "or", "is", "between", "like", "ilike", "then", "else", "when", "case",
                       "exists", "select", "as", "interval"))

UNREPEATABLE_NODES = (exp.CurrentDate, exp.CurrentTimestamp, exp.CurrentTime, exp.CurrentDatetime, exp.UtcTimestamp,
                      exp.Rand, exp.Randn, exp.Randstr, exp.Uuid)


def check(sql: str, value_type: str) -> list[tuple[str, str]]:
    """(column, message) for everything wrong with a rendered rule: not one ClickHouse expression, a call
    outside RULE_FUNCTIONS, a read outside the customer's feature row, or a kind other than value_type."""
    problems: list[tuple[str, str]] = []
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
        if kind is not None and kind != value_type and value_type in KIND_WORDS:
            problems.append(("value_type", f"value_type is {value_type} but the rule returns {KIND_WORDS[kind]}"))
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
            elif node.name not in feature_columns() and node.name not in unknown:
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
                        "customer's feature row only (rules.RULE_FUNCTIONS lists them)")
    return list(dict.fromkeys(messages))


def _forbidden_function(name: str) -> bool:
    lowered = name.lower()
    return lowered in FORBIDDEN_FUNCTIONS or lowered.startswith(FORBIDDEN_FUNCTION_PREFIXES)


def _unrepeatable_function(name: str) -> bool:
    lowered = name.lower()
    return lowered in UNREPEATABLE_FUNCTIONS or lowered.startswith(UNREPEATABLE_FUNCTION_PREFIXES)


# What a rule clearly returns, as far as the syntax tree tells; None when it cannot tell.
KIND_WORDS = {"flag": "a condition (0/1)", "label": "a string", "number": "a number", "labels": "an array of strings"}
# calls that surely return an array of strings here: a map's keys (the feature maps are keyed by text), a split
LABELS_CALLS = ("mapkeys", "splitbychar")
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
    if isinstance(node, exp.Array) and node.expressions and all(
            isinstance(item, exp.Literal) and item.is_string for item in node.expressions):
        return "labels"
    if isinstance(node, exp.Anonymous) and node.name.lower() in LABELS_CALLS:
        return "labels"
    if isinstance(node, exp.Column) and not node.table:
        return _column_kind(feature_columns().get(node.name, ""))
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
