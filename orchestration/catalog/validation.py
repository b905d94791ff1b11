"""Validating the tag catalog's rows: every problem of every row, named by line, tag and column.

Nothing is synced or built from a catalog with errors. Rules are checked by rules.py.
"""

from __future__ import annotations

from orchestration.catalog.catalog import (
    CATEGORIES, CUSTOM_MODELS_DIR, CatalogError, CatalogRow, DEFAULT_BLOCKING_CHECKS, MAX_TAG_NAME_LENGTH, METHODS,
    METHOD_VALUE_TYPES, PLACEHOLDER, QUALITY_CHECKS_FILE, RESERVED_TAG_KEYS, SCORE_CAPS, SCORE_WEIGHTS, STATUSES,
    TAG_KEY, TAG_NAME, VALUE_TYPES, WHEN_BLOCKED, EVALUATED_AT, LANES, quality_checks, render_rule,
)
from orchestration.settings import PROJECT_DIR


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
    if row.method == "model" and "params" not in loaded_badly:
        from orchestration.models import model_tags  # with numpy: not loaded for catalogs without model tags

        problems.extend(("params", problem) for problem in model_tags.params_problems(row.params))
        if "auc" not in row.blocking_checks:
            add("blocking_checks", "a model tag blocks on auc (its AUC on held-out customers against min_auc)")
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

    if row.evaluated_at not in EVALUATED_AT:
        add("evaluated_at", f"unknown evaluated_at {row.evaluated_at!r}; one of {', '.join(EVALUATED_AT)} "
                            "(day_end: the as_of day whole; cutoff: the run's cutoff, e.g. 02:00 the next morning)")
    elif row.evaluated_at == "cutoff" and row.method not in ("rule", "score"):
        add("evaluated_at", f"evaluated_at cutoff applies to rule and score tags, not to {row.method} tags "
                            "(they are evaluated at the end of the as_of day)")

    if row.lane not in LANES:
        add("lane", f"unknown lane {row.lane!r}; one of {', '.join(LANES)} "
                    "(nightly: the nightly job; intraday: also the intraday lane, minutes after new orders or tickets are loaded)")
    elif row.lane == "intraday" and (row.method, row.value_type, row.evaluated_at) != ("rule", "flag", "cutoff"):
        add("lane", "lane intraday takes rule tags of value_type flag with evaluated_at cutoff (the state of open "
                    f"orders and tickets at the run's instant), not a {row.method} {row.value_type} tag evaluated at "
                    f"{row.evaluated_at}")

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
    from orchestration.catalog import rules  # with sqlglot (0.15 s): loaded by the commands that check a rule

    return problems + rules.check(render_rule(row), row.value_type)
