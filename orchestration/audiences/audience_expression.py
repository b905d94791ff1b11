"""The audience expression language, parsed with a grammar (lark) and compiled to bitmap operations.

    vip and not churn_risk
    rfm_segment = 'champions' or (value_score >= 80 and country in ('DE', 'FR'))

- A flag tag stands alone (`vip`); a label tag is compared with quoted text (`=`, `!=`, `in`,
  `not in`); a number tag with numbers (`=`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `not in`).
  `!=` and `not in` mean "has the tag, with another value"; `not x` means "every customer but x".
- A labels tag (several values per customer) is tested with `has`: `interest has 'beauty'`,
  `interest has any ('beauty', 'fashion')` (one of them), `interest has all ('beauty', 'fashion')` (both);
  `=` and `in` read as `has` and `has any`. `!=` and `not in` are refused there (a customer with beauty and
  fashion has "another value" than beauty): write `not interest has 'beauty'`. `has` works on a label tag too.
- Keywords are case-insensitive; tag keys are the catalog's lower-case keys.

Compiling never splices the user's text into SQL: tag keys are checked against the catalog,
values become quoted literals, and the rest of the SQL comes from this module. Each comparison is
one aggregate over the tag bitmaps (one scan for the whole expression), combined with bitmapAnd,
bitmapOr and bitmapAndnot; `not` subtracts from the bitmap of all customers of the run.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND not_expr)*
?not_expr: _NOT not_expr -> negation
         | atom
?atom: "(" or_expr ")"
     | TAG COMPARATOR value -> comparison
     | TAG _IN "(" value ("," value)* ")" -> membership
     | TAG _NOT _IN "(" value ("," value)* ")" -> non_membership
     | TAG _HAS value -> has_value
     | TAG _HAS _ANY "(" value ("," value)* ")" -> has_any
     | TAG _HAS _ALL "(" value ("," value)* ")" -> has_all
     | TAG -> has_tag
?value: STRING | NUMBER

_OR.2: /or\b/i
_AND.2: /and\b/i
_NOT.2: /not\b/i
_IN.2: /in\b/i
_HAS.2: /has\b/i
_ANY.2: /any\b/i
_ALL.2: /all\b/i
TAG: /(?!(?i:and|or|not|in|has)\b)[a-z][a-z0-9_]*/
COMPARATOR: "!=" | "<>" | "<=" | ">=" | "=" | "<" | ">"
STRING: /'(?:[^'\\]|\\.)*'/
NUMBER: /-?\d+(\.\d+)?/

%import common.WS
%ignore WS
"""


@functools.cache
def _parser() -> Lark:
    """Built at the first expression, not at import: 0.05 s every `tags` command would otherwise pay."""
    return Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)


FLAG, LABEL, NUMBER, LABELS = "flag", "label", "number", "labels"
TEXT_KINDS = (LABEL, LABELS)
ORDERING = ("<", "<=", ">", ">=")


class ExpressionError(ValueError):
    """A problem in an audience expression, with its position (1-based column) and a caret under it."""

    def __init__(self, expression: str, column: int, message: str, width: int = 1):
        self.expression, self.column, self.message = expression, column, message
        lines = expression.splitlines() or [""]
        # Expressions are one line in practice; for several, point into the first for simplicity.
        caret = " " * (column - 1) + "^" * max(width, 1)
        super().__init__(f"column {column}: {message}\n  {lines[0]}\n  {caret}")

    def as_dict(self) -> dict:
        """What a caller outside Python is shown: the message, its column and the text with the caret."""
        return {"message": self.message, "column": self.column, "text": str(self)}


# --- the syntax tree ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Condition:
    """One tag test: a flag, or a label/number compared with values. column: where the tag key starts."""

    tag: str
    operator: str  # 'has', '=', '!=', '<', '<=', '>', '>=', 'in', 'not in'
    values: tuple
    column: int


@dataclass(frozen=True)
class Not:
    operand: object


@dataclass(frozen=True)
class AllOf:
    operands: tuple


@dataclass(frozen=True)
class AnyOf:
    operands: tuple


def _literal(token: Token):
    if token.type == "STRING":
        body = token[1:-1]
        return body.replace("\\'", "'").replace("\\\\", "\\")
    return float(token) if "." in token else int(token)


@v_args(inline=True)
class _ToTree(Transformer):
    def has_tag(self, tag):
        return Condition(str(tag), "has", (), tag.column)

    def comparison(self, tag, operator, value):
        op = "!=" if operator == "<>" else str(operator)
        return Condition(str(tag), op, (_Value(value),), tag.column)

    def membership(self, tag, *values):
        return Condition(str(tag), "in", tuple(_Value(v) for v in values), tag.column)

    def non_membership(self, tag, *values):
        return Condition(str(tag), "not in", tuple(_Value(v) for v in values), tag.column)

    # `has` is `=` (one value's members), `has any` is `in`, `has all` the members of every value at once
    def has_value(self, tag, value):
        return Condition(str(tag), "=", (_Value(value),), tag.column)

    def has_any(self, tag, *values):
        return Condition(str(tag), "in", tuple(_Value(v) for v in values), tag.column)

    def has_all(self, tag, *values):
        return AllOf(tuple(Condition(str(tag), "=", (_Value(v),), tag.column) for v in values))

    def negation(self, operand):
        return Not(operand)

    def and_expr(self, *operands):
        return AllOf(operands)

    def or_expr(self, *operands):
        return AnyOf(operands)


@dataclass(frozen=True)
class _Value:
    """A literal with where it was written, for error messages."""

    token: Token

    @property
    def value(self):
        return _literal(self.token)

    @property
    def is_text(self) -> bool:
        return self.token.type == "STRING"


def parse(expression: str):
    """The syntax tree of an expression, or ExpressionError naming the position."""
    if not expression.strip():
        raise ExpressionError(expression, 1, "the expression is empty")
    try:
        return _ToTree().transform(_parser().parse(expression))
    except UnexpectedEOF:
        raise ExpressionError(expression, len(expression) + 1, "the expression ends too early") from None
    except UnexpectedToken as exc:
        if exc.token.type == "$END":
            raise ExpressionError(expression, len(expression) + 1, "the expression ends too early") from None
        raise ExpressionError(expression, exc.column, f"unexpected '{exc.token}'; expected {_expected(exc.expected)}",
                              len(exc.token)) from None
    except UnexpectedCharacters as exc:
        raise ExpressionError(expression, exc.column, f"unexpected character {expression[exc.pos_in_stream]!r}"
                              " (tag keys are lower-case, text is in single quotes)") from None
    except (UnexpectedInput, VisitError) as exc:  # pragma: no cover - lark's other errors carry no position
        raise ExpressionError(expression, 1, str(exc)) from None


_TOKEN_NAMES = {"TAG": "a tag key", "STRING": "a quoted text", "NUMBER": "a number", "COMPARATOR": "a comparison",
                "LPAR": "'('", "RPAR": "')'", "COMMA": "','", "_AND": "'and'", "_OR": "'or'", "_NOT": "'not'",
                "_IN": "'in'", "_HAS": "'has'", "_ANY": "'any'", "_ALL": "'all'", "$END": "the end of the expression"}


def _expected(names) -> str:
    described = sorted({_TOKEN_NAMES.get(n, n) for n in names})
    return " or ".join(described) if described else "something else"


# --- checking against the catalog ----------------------------------------------------------------

def check(expression: str, tag_types: dict[str, str]) -> object:
    """Parse and check every tag against the catalog's active tags (key -> flag/label/number)."""
    tree = parse(expression)
    for condition in conditions(tree):
        _check_condition(expression, condition, tag_types)
    return _plain(tree)


def conditions(tree) -> list[Condition]:
    """The tag tests of a tree, left to right."""
    if isinstance(tree, Condition):
        return [tree]
    if isinstance(tree, Not):
        return conditions(tree.operand)
    return [c for operand in tree.operands for c in conditions(operand)]


def _check_condition(expression: str, c: Condition, tag_types: dict[str, str]) -> None:
    kind = tag_types.get(c.tag)
    if kind is None:
        close = difflib.get_close_matches(c.tag, tag_types, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ExpressionError(expression, c.column, f"unknown tag {c.tag!r}{hint}; audiences use the active tags "
                                                    "of seeds/tag_catalog.csv", len(c.tag))
    if kind == FLAG and c.operator != "has":
        raise ExpressionError(expression, c.column, f"{c.tag} is a flag tag: write it alone, e.g. {c.tag} or not {c.tag}",
                              len(c.tag))
    if kind != FLAG and c.operator == "has":
        example = {LABEL: f"{c.tag} = 'some value'", LABELS: f"{c.tag} has 'some value'"}.get(kind, f"{c.tag} >= 10")
        raise ExpressionError(expression, c.column, f"{c.tag} is a {kind} tag: compare it, e.g. {example}", len(c.tag))
    if kind == LABEL and c.operator in ORDERING:
        raise ExpressionError(expression, c.column, f"{c.tag} is a label tag: compare it with =, !=, in or not in",
                              len(c.tag))
    if kind == LABELS and c.operator not in ("=", "in"):
        raise ExpressionError(expression, c.column, f"{c.tag} is a labels tag (several values per customer): test it "
                                                    f"with has, has any or has all, e.g. {c.tag} has 'some value' or "
                                                    f"not {c.tag} has 'some value'", len(c.tag))
    for value in c.values:
        if kind in TEXT_KINDS and not value.is_text:
            raise ExpressionError(expression, value.token.column, f"{c.tag} is a {kind} tag: compare it with quoted "
                                                                  f"text, e.g. '{value.token}'", len(value.token))
        if kind == NUMBER and value.is_text:
            raise ExpressionError(expression, value.token.column, f"{c.tag} is a number tag: compare it with a "
                                                                  "number, without quotes", len(value.token))


def _plain(tree):
    """The tree with literal values instead of tokens (what compile() and equality use)."""
    if isinstance(tree, Condition):
        return Condition(tree.tag, tree.operator, tuple(v.value for v in tree.values), tree.column)
    if isinstance(tree, Not):
        return Not(_plain(tree.operand))
    return type(tree)(tuple(_plain(o) for o in tree.operands))


# --- compiling to bitmap SQL ---------------------------------------------------------------------

def quote(value) -> str:
    """A ClickHouse literal for a checked value: numbers as written, text single-quoted and escaped."""
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def condition_sql(c: Condition) -> str:
    """The rows of the tag bitmaps a condition takes (its tag_key and, for comparisons, its tag_value)."""
    key = f"tag_key = {quote(c.tag)}"
    if c.operator == "has":
        return key
    numeric = all(isinstance(v, (int, float)) for v in c.values)
    value = "toFloat64OrNull(tag_value)" if numeric else "tag_value"
    listed = ", ".join(quote(v) for v in c.values)
    if c.operator in ("in", "not in"):
        test = f"{value} {c.operator} ({listed})"
    else:
        test = f"{value} {c.operator} {listed}"
    return f"{key} and ifNull({test}, 0)" if numeric else f"{key} and {test}"


@dataclass(frozen=True)
class Compiled:
    """An expression as SQL: `select_sql(bitmaps, all_customers)` gives one row, one column `members`."""

    conditions: tuple[str, ...]  # condition SQL, one aggregate each, in order of first use
    bitmap: str  # over t0, t1, ... and all_customers
    tag_keys: tuple[str, ...]
    uses_all_customers: bool

    def select_sql(self, bitmaps: str, all_customers: str) -> str:
        """bitmaps: a relation with tag_key, tag_value, members; all_customers: one with members (one row)."""
        aggregates = ",\n        ".join(f"groupBitmapMergeStateIf(members, {c}) as t{i}"
                                        for i, c in enumerate(self.conditions))
        keys = ", ".join(quote(k) for k in self.tag_keys)
        sql = (f"select {self.bitmap} as members\nfrom (\n    select\n        {aggregates}\n"
               f"    from {bitmaps}\n    where tag_key in ({keys})\n) as tagged")
        if self.uses_all_customers:
            sql += f"\ncross join (select members as all_customers from {all_customers}) as everyone"
        return sql


def compile_expression(expression: str, tag_types: dict[str, str]) -> Compiled:
    tree = check(expression, tag_types)
    slots: dict[str, int] = {}
    uses_all: list[bool] = [False]

    def slot(c: Condition) -> str:
        sql = condition_sql(c)
        slots.setdefault(sql, len(slots))
        return f"t{slots[sql]}"

    def bitmap(node) -> str:
        if isinstance(node, Condition):
            return slot(node)
        if isinstance(node, Not):
            uses_all[0] = True
            return f"bitmapAndnot(all_customers, {bitmap(node.operand)})"
        if isinstance(node, AnyOf):
            return _fold("bitmapOr", [bitmap(o) for o in node.operands])
        # and: the positive operands intersected, minus the union of the negated ones
        positive = [o for o in node.operands if not isinstance(o, Not)]
        negative = [o.operand for o in node.operands if isinstance(o, Not)]
        if not positive:
            return bitmap(Not(AnyOf(tuple(negative)))) if len(negative) > 1 else bitmap(Not(negative[0]))
        kept = _fold("bitmapAnd", [bitmap(o) for o in positive])
        return f"bitmapAndnot({kept}, {_fold('bitmapOr', [bitmap(o) for o in negative])})" if negative else kept

    sql = bitmap(tree)
    keys = tuple(dict.fromkeys(c.tag for c in conditions(tree)))
    return Compiled(tuple(slots), sql, keys, uses_all[0])


def _fold(function: str, parts: list[str]) -> str:
    result = parts[0]
    for part in parts[1:]:
        result = f"{function}({result}, {part})"
    return result
