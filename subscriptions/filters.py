"""Payload filters: which events an endpoint wants, beyond their type and channel.

A filter is a small JSON language in the spirit of Convoy's and MongoDB's, over dotted paths
rooted at the delivered payload (`id`, `event_type`, `created_at`, `data`):

    {"data.status": "paid", "data.total": {"$gte": 100}}
    {"$or": [{"data.country": {"$in": ["DE", "FR"]}}, {"data.vip": true}]}

Each key of an object must hold (AND): a path with a scalar (equality) or an operator object
(`$in`, `$nin`, `$gt`, `$gte`, `$lt`, `$lte`, `$exists`), or `$and` / `$or` with a list of
filters. A path through an array looks at each element, and an array compared with a value
matches when one of its elements does (`{"data.tags": "vip"}` matches `["new", "vip"]`); a
missing path matches only `$nin` and `{"$exists": false}`; values of different types do not
compare: `{"data.total": {"$gt": 5}}` does not match a string total, and neither does
`{"$nin": [5]}` (such a comparison is unknown, and unknown is no match; null is the exception:
it equals only null).

Filters are evaluated at fan-out, inside the statement that publishes the event: each is
compiled once, when it is saved, into an SQL/JSON path predicate in lax mode, whose semantics
are the ones above, and PostgreSQL's `jsonb_path_match` runs it. `matches` is the same
language in Python (three-valued like SQL/JSON: a comparison of different types is unknown,
and unknown is no match), used on SQLite and to check a filter against an example payload;
a test holds the two to the same answers.
"""

import json
import re

OPERATORS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
SET_OPERATORS = ("$in", "$nin")
MAX_FILTER_BYTES = 4096
MAX_DEPTH = 5
MAX_PATH_SEGMENTS = 10
MAX_SET_SIZE = 100
_SEGMENT = re.compile(r"[^.$][^.]{0,99}")


class InvalidFilter(ValueError):
    pass


def filter_problem(spec) -> str | None:
    """Why `spec` is not a filter, or None."""
    try:
        _check(spec, depth=1)
    except InvalidFilter as exc:
        return str(exc)
    if len(json.dumps(spec)) > MAX_FILTER_BYTES:
        return f"A filter is at most {MAX_FILTER_BYTES} bytes of JSON."
    return None


def _check(spec, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise InvalidFilter(f"$and and $or nest at most {MAX_DEPTH} deep.")
    if not isinstance(spec, dict) or not spec:
        raise InvalidFilter("A filter is a non-empty JSON object.")
    for key, condition in spec.items():
        if key in ("$and", "$or"):
            if not isinstance(condition, list) or not condition:
                raise InvalidFilter(f"{key} takes a non-empty list of filters.")
            for nested in condition:
                _check(nested, depth + 1)
        elif key.startswith("$"):
            raise InvalidFilter(f"Unknown operator {key} (paths are keys, e.g. data.status).")
        else:
            _path(key)
            _check_condition(key, condition)


def _path(key: str) -> list[str]:
    segments = key.split(".")
    if len(segments) > MAX_PATH_SEGMENTS or not all(_SEGMENT.fullmatch(s) for s in segments):
        raise InvalidFilter(
            f"{key!r} is not a path: dot-separated names (at most {MAX_PATH_SEGMENTS}), "
            "none empty or starting with $."
        )
    return segments


def _is_scalar(value) -> bool:
    return value is None or isinstance(value, str | bool | int | float)


def _check_condition(key: str, condition) -> None:
    if not isinstance(condition, dict):
        if not _is_scalar(condition):
            raise InvalidFilter(f"{key}: compare with a string, number, boolean or null.")
        return
    if not condition:
        raise InvalidFilter(f"{key}: an empty operator object.")
    for operator, operand in condition.items():
        if operator in OPERATORS:
            if isinstance(operand, bool) or not isinstance(operand, str | int | float):
                raise InvalidFilter(f"{key}: {operator} takes a number or a string.")
        elif operator in SET_OPERATORS:
            if (
                not isinstance(operand, list)
                or not 0 < len(operand) <= MAX_SET_SIZE
                or not all(_is_scalar(v) for v in operand)
            ):
                raise InvalidFilter(
                    f"{key}: {operator} takes a list of 1 to {MAX_SET_SIZE} scalar values."
                )
        elif operator == "$exists":
            if not isinstance(operand, bool):
                raise InvalidFilter(f"{key}: $exists takes true or false.")
        else:
            raise InvalidFilter(f"{key}: unknown operator {operator}.")


# --- Compiled for PostgreSQL: an SQL/JSON path predicate, lax mode ---------------------------


def to_jsonpath(spec: dict) -> str:
    """The predicate `jsonb_path_match` evaluates on the payload; `spec` must be valid."""
    return _all_of(spec)


def _all_of(spec: dict) -> str:
    clauses = []
    for key, condition in spec.items():
        if key in ("$and", "$or"):
            joiner = " && " if key == "$and" else " || "
            clauses.append("(" + joiner.join(_all_of(nested) for nested in condition) + ")")
        else:
            clauses.append(_condition(_jsonpath(key), condition))
    return "(" + " && ".join(clauses) + ")"


def _jsonpath(key: str) -> str:
    return "$" + "".join(f".{json.dumps(segment)}" for segment in _path(key))


def _literal(value) -> str:
    return json.dumps(value)  # JSON's scalars are SQL/JSON path literals


def _condition(path: str, condition) -> str:
    if not isinstance(condition, dict):
        return f"({path} == {_literal(condition)})"
    clauses = []
    for operator, operand in condition.items():
        if operator in OPERATORS:
            clauses.append(f"({path} {OPERATORS[operator]} {_literal(operand)})")
        elif operator in SET_OPERATORS:
            any_of = " || ".join(f"{path} == {_literal(v)}" for v in operand)
            clauses.append(f"({any_of})" if operator == "$in" else f"!({any_of})")
        else:
            clauses.append(f"exists({path})" if operand else f"!exists({path})")
    return "(" + " && ".join(clauses) + ")"


# --- The same language in Python -----------------------------------------------------------
# Truth values are True, False and None (unknown), combined as SQL/JSON combines them.


def matches(spec: dict, payload: dict) -> bool:
    """Whether `payload` passes `spec` (a valid filter)."""
    return _all(spec, payload) is True


def _and(values) -> bool | None:
    values = list(values)
    return False if False in values else None if None in values else True


def _or(values) -> bool | None:
    values = list(values)
    return True if True in values else None if None in values else False


def _not(value: bool | None) -> bool | None:
    return None if value is None else not value


def _all(spec: dict, payload: dict) -> bool | None:
    results = []
    for key, condition in spec.items():
        if key in ("$and", "$or"):
            combine = _and if key == "$and" else _or
            results.append(combine(_all(nested, payload) for nested in condition))
        else:
            results.append(_holds(_items(payload, _path(key)), condition))
    return _and(results)


def _items(payload, segments: list[str]) -> list:
    """What a lax-mode path yields: an accessor on an array applies to each element (one
    level), and a missing member or an accessor on a scalar yields nothing."""
    items = [payload]
    for segment in segments:
        found = []
        for item in items:
            for element in item if isinstance(item, list) else [item]:
                if isinstance(element, dict) and segment in element:
                    found.append(element[segment])
        items = found
    return items


def _holds(items: list, condition) -> bool | None:
    if not isinstance(condition, dict):
        return _compare(items, "==", condition)
    results = []
    for operator, operand in condition.items():
        if operator in OPERATORS:
            results.append(_compare(items, OPERATORS[operator], operand))
        elif operator in SET_OPERATORS:
            any_of = _or(_compare(items, "==", value) for value in operand)
            results.append(any_of if operator == "$in" else _not(any_of))
        else:
            results.append(bool(items) is operand)
    return _and(results)


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "container"


def _compare(items: list, operator: str, literal) -> bool | None:
    """A comparison over a sequence: true if one item compares true, else unknown if one
    could not be compared, else false. An array among the items is looked into (one level)."""
    results = []
    for item in items:
        for element in item if isinstance(item, list) else [item]:
            results.append(_compare_one(element, operator, literal))
    return _or(results)


def _compare_one(value, operator: str, literal) -> bool | None:
    kinds = (_kind(value), _kind(literal))
    if "container" in kinds:
        return None
    if kinds[0] != kinds[1]:
        return False if "null" in kinds else None
    if kinds[0] == "null":
        value = literal = 0  # null equals null, and is neither above nor below it
    return {
        "==": value == literal,
        ">": value > literal,
        ">=": value >= literal,
        "<": value < literal,
        "<=": value <= literal,
    }[operator]
