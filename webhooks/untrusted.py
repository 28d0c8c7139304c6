"""Reading what arrives from outside: JSON bodies, integers in headers, times and fields in
payloads.

Python's own parsers fail in more ways than `except ValueError` catches: JSON nested a few
thousand levels deep raises RecursionError; `int()` refuses more than 4,300 digits and accepts
text that is not what the sender meant (`"١٢"`, `" 12"`, `"1_2"`), while `str.isdigit()` admits
`"²"`, which `int()` then refuses; an offset Python allows (`+23:00`) is one PostgreSQL refuses
(it stops at ±15:59). Every parse of untrusted input goes through here, and each failure is one
MalformedInput, so a caller has exactly one thing to catch and the sender is told what to change.

A signature proves who sent a payload, not that it is well formed: a signed `"id": null`
stored with `str()` becomes an order named `None` that every other null-id order merges into.
Handlers read each field through `Fields`, which checks its type, length and range and names
its path when it refuses (`line_items[2].quantity`).
"""

import json
import math
import re
from datetime import UTC, datetime
from decimal import Context, Decimal

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
    `invalid_unicode` (a lone UTF-16 surrogate, which no UTF-8 text or database can hold);
    from `Fields`: `missing`, `wrong_type`, `out_of_range`, `unstorable` (a NUL, which
    PostgreSQL text cannot hold). `loc` is the path of the field refused, when there is one.
    """

    def __init__(self, message: str, code: str = "malformed", loc: tuple = ()):
        super().__init__(message)
        self.code = code
        self.loc = loc


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


# PostgreSQL's integer and bigint.
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
_ASCII_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "empty text" if not value else "text"
    return "a list" if isinstance(value, list) else "an object"


def _where(loc: tuple) -> str:
    if not loc:
        return "The payload"
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    return f"`{path.removeprefix('.')}`"


class Fields:
    """A JSON object from outside, read one typed field at a time.

    Each reader returns the field as the type asked for, or raises MalformedInput naming its
    path: never `str()` of whatever came (`"None"`, `"{'a': 1}"`), never text longer than its
    column, never a number out of its column's range. A missing or null optional field is the
    reader's empty value ("", None, [], an empty Fields); a required one is refused.
    """

    def __init__(self, value, loc: tuple = ()):
        if type(value) is not dict:
            raise MalformedInput(
                f"{_where(loc)} must be an object, not {_kind(value)}.", "wrong_type", loc
            )
        self._value = value
        self.loc = tuple(loc)

    def __contains__(self, key: str) -> bool:
        return key in self._value

    def _refuse(self, key, message: str, code: str):
        loc = (*self.loc, key)
        raise MalformedInput(f"{_where(loc)} {message}", code, loc)

    def _present(self, key, *, required: bool):
        """The value, or None when missing, null or empty text (refused when required)."""
        value = self._value.get(key)
        if value is None or value == "":
            if required:
                absent = key not in self._value
                self._refuse(
                    key,
                    "is required." if absent else f"is required, not {_kind(value)}.",
                    "missing",
                )
            return None
        return value

    def _checked_text(self, key, value: str, max_length: int | None) -> str:
        if max_length is not None and len(value) > max_length:
            self._refuse(
                key, f"is {len(value)} characters long; at most {max_length} fit.", "too_large"
            )
        if "\x00" in value:
            self._refuse(
                key, "holds a NUL character, which the database cannot store.", "unstorable"
            )
        return value

    def text(self, key: str, *, max_length: int | None, required: bool = False) -> str:
        """Text of at most `max_length` characters; "" when optional and missing or null."""
        value = self._present(key, required=required)
        if value is None:
            return ""
        if not isinstance(value, str):
            self._refuse(key, f"must be text, not {_kind(value)}.", "wrong_type")
        return self._checked_text(key, value, max_length)

    def identifier(self, key: str, *, max_length: int | None, required: bool = True) -> str:
        """An id sent as text or as an integer (Shopify's are numbers), as text."""
        value = self._present(key, required=required)
        if value is None:
            return ""
        if type(value) is int:
            value = str(value)
        elif not isinstance(value, str):
            self._refuse(key, f"must be text or an integer, not {_kind(value)}.", "wrong_type")
        return self._checked_text(key, value, max_length)

    def integer(self, key: str, *, minimum: int, maximum: int, default: int | None = None):
        """A JSON integer from `minimum` to `maximum`; `default` when missing or null."""
        value = self._value.get(key)
        if value is None:
            return default
        if type(value) is not int:
            self._refuse(key, f"must be an integer, not {_kind(value)}.", "wrong_type")
        if not minimum <= value <= maximum:
            shown = str(value) if abs(value) < 10**40 else "a number of over 40 digits"
            self._refuse(key, f"must be from {minimum} to {maximum}, not {shown}.", "out_of_range")
        return value

    def decimal(self, key: str, *, max_digits: int, decimal_places: int) -> Decimal | None:
        """A money amount (text like "19.99" or a number) rounded to `decimal_places`, with at
        most `max_digits` digits in all; None when missing, null or empty."""
        value = self._present(key, required=False)
        if value is None:
            return None
        if isinstance(value, str) and _ASCII_DECIMAL.fullmatch(value):
            amount = Decimal(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            amount = Decimal(str(value))
        else:
            self._refuse(
                key, f'must be a decimal number like "19.99", not {_kind(value)}.', "wrong_type"
            )
        whole_digits = max_digits - decimal_places
        if amount.adjusted() < whole_digits:
            amount = amount.quantize(
                Decimal(1).scaleb(-decimal_places), context=Context(prec=max_digits + 1)
            )
        if amount.adjusted() >= whole_digits:
            self._refuse(
                key, f"has more than {whole_digits} digits before the point.", "out_of_range"
            )
        return amount

    def time(self, key: str) -> datetime | None:
        """An ISO 8601 time as aware UTC (see aware_time); None when missing, null or empty."""
        value = self._present(key, required=False)
        if value is None:
            return None
        parsed = aware_time(value) if isinstance(value, str) else None
        if parsed is None:
            shown = f"{value[:40]!r}" if isinstance(value, str) else _kind(value)
            self._refuse(key, f"must be an ISO 8601 time, not {shown}.", "wrong_type")
        return parsed

    def object(self, key: str) -> "Fields":
        """A nested object; an empty one when missing or null."""
        value = self._value.get(key)
        return Fields({} if value is None else value, (*self.loc, key))

    def objects(self, key: str) -> list["Fields"]:
        """A list of objects; [] when missing or null."""
        value = self._value.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self._refuse(key, f"must be a list of objects, not {_kind(value)}.", "wrong_type")
        return [Fields(item, (*self.loc, key, index)) for index, item in enumerate(value)]
