"""Reading what arrives from outside: JSON bodies, integers in headers, times in payloads.

Python's own parsers fail in more ways than `except ValueError` catches: JSON nested a few
thousand levels deep raises RecursionError; `int()` refuses more than 4,300 digits and accepts
text that is not what the sender meant (`"١٢"`, `" 12"`, `"1_2"`), while `str.isdigit()` admits
`"²"`, which `int()` then refuses; an offset Python allows (`+23:00`) is one PostgreSQL refuses
(it stops at ±15:59). Every parse of untrusted input goes through here, and each failure is one
MalformedInput, so a caller has exactly one thing to catch and the sender is told what to change.
"""

import json
import math
import re
from datetime import UTC, datetime

from django.utils.dateparse import parse_datetime

# Real webhook payloads nest about six levels; the limit keeps every later json.dumps, render
# and walk of a parsed value far from the interpreter's recursion limit.
MAX_DEPTH = 64
# A Unix time in seconds has 10 digits until the year 2286; milliseconds have 13.
MAX_INT_DIGITS = 18
# JSON can only produce a lone surrogate from a \u escape in the D800-DFFF range: this finds
# the bodies worth walking (escaped pairs match too; the walk tells them apart).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class MalformedInput(ValueError):
    """Input that cannot be used as sent; `code` says how, the message says what to change.

    Codes: `malformed` (not JSON, or not the expected text), `too_deep`, `too_large`,
    `invalid_unicode` (a lone UTF-16 surrogate, which no UTF-8 text or database can hold).
    """

    def __init__(self, message: str, code: str = "malformed"):
        super().__init__(message)
        self.code = code


def _refuse_constant(name: str):
    raise MalformedInput(f"{name} is not a JSON number.")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise MalformedInput(f"The number {text[:40]} is out of range.", "too_large")
    return value


def json_parse(data: bytes | str, *, max_bytes: int | None = None, max_depth: int = MAX_DEPTH):
    """Parse untrusted JSON; MalformedInput when it is not JSON we can hold.

    Refused: anything `json.loads` refuses, NaN and Infinity (not JSON, and PostgreSQL's jsonb
    refuses them), numbers that overflow a float, nesting deeper than `max_depth`, more than
    `max_bytes`, and strings or keys holding a lone surrogate.
    """
    if max_bytes is not None and len(data) > max_bytes:
        raise MalformedInput(f"The body is over {max_bytes} bytes.", "too_large")
    try:
        value = json.loads(data, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise MalformedInput(f"JSON nested deeper than {max_depth} levels.", "too_deep") from None
    except MalformedInput:
        raise
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, int()'s digit limit
        raise MalformedInput(f"Not valid JSON: {exc}") from None
    if isinstance(data, bytes):
        brackets = data.count(b"[") + data.count(b"{")
        escapes = _SURROGATE_ESCAPE_BYTES.search(data)
    else:
        brackets = data.count("[") + data.count("{")
        escapes = _SURROGATE_ESCAPE.search(data)
    if brackets > max_depth or escapes:  # else no walk can find anything
        _walk(value, max_depth=max_depth, strings=escapes is not None)
    return value


def _walk(value, *, max_depth: int, strings: bool) -> None:
    """Check depth (and, when asked, every key and string) without recursion."""
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if type(node) is dict:
            children = node.values()
            if strings:
                _check_strings(node.keys())
        elif type(node) is list:
            children = node
        else:
            if strings and type(node) is str:
                _check_strings((node,))
            continue
        if depth + 1 > max_depth:
            raise MalformedInput(f"JSON nested deeper than {max_depth} levels.", "too_deep")
        stack.extend((child, depth + 1) for child in children)


def _check_strings(texts) -> None:
    for text in texts:
        if _LONE_SURROGATE.search(text):
            raise MalformedInput(
                "A JSON string holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not "
                "Unicode text.",
                "invalid_unicode",
            )


def ascii_int(value: str, *, max_digits: int = MAX_INT_DIGITS) -> int:
    """A non-negative integer written in ASCII digits only, at most `max_digits` of them.

    For integers in headers (timestamps) and ids: no sign, spaces, underscores or other
    scripts' digits, and never long enough to reach int()'s limit or cost its quadratic time.
    """
    if not (isinstance(value, str) and value.isascii() and value.isdigit()):
        raise MalformedInput(f"{str(value)[:40]!r} is not an integer of ASCII digits.")
    if len(value) > max_digits:
        raise MalformedInput(f"An integer of more than {max_digits} digits.", "too_large")
    return int(value)


def aware_time(value) -> datetime | None:
    """An ISO 8601 time as an aware UTC datetime; None when missing or not a real time.

    Django's parse_datetime raises for text shaped like a time that is not one (month 13)
    and returns a naive datetime for one without an offset, which is read as UTC, so every
    stored time compares with every other. The result is in UTC because PostgreSQL refuses
    offsets beyond ±15:59 that Python accepts; the instant is the same.
    """
    try:
        parsed = parse_datetime(str(value or ""))
        if parsed is None:
            return None
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 moved past the range
        return None
