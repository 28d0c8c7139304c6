"""Properties of every parser of untrusted input in the event core (hypothesis).

Parsers that catch too little: whatever arrives, each parser returns a value of the promised
type or raises its one error (MalformedInput, SignatureError), never anything else.
"""

import json
import math
import string
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from webhooks.signing import SignatureError, standard_signature, standard_verify
from webhooks.untrusted import (
    INT64,
    MAX_DEPTH,
    MAX_INT_DIGITS,
    Fields,
    MalformedInput,
    ascii_int,
    aware_time,
    json_parse,
)

# Text where parsers go wrong: NUL, lone surrogates, other scripts' digits, BOM, line and
# paragraph separators, an astral character, a letter that grows when upper-cased.
EDGE_CHARACTERS = ["\x00", "\ud800", "\udfff", "\u0661", "\u00b2", "\ufeff", "\u2028",
                   "\U0001f600", "\u00df", "\\", '"', " "]  # fmt: skip
edge_text = st.text(st.one_of(st.characters(), st.sampled_from(EDGE_CHARACTERS)), max_size=40)
# Numbers at and past the edges of what a column, a float and int() hold.
huge_integers = st.one_of(
    st.integers(),
    st.sampled_from([2**31, 2**63, -(2**63) - 1, 10**18, 10**300]),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    huge_integers,
    st.floats(allow_nan=False, allow_infinity=False),
    edge_text,
)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(edge_text, children, max_size=5)
    ),
    max_leaves=30,
)


def has_lone_surrogate(value) -> bool:
    text = json.dumps(value, ensure_ascii=False)
    return any(0xD800 <= ord(character) <= 0xDFFF for character in text)


def attempt(read):
    """(what `read()` returned, None), or (None, the MalformedInput it raised)."""
    try:
        return read(), None
    except MalformedInput as exc:
        return None, exc


@given(st.binary(max_size=200))
def test_parsers_that_catch_too_little_json_parse_of_any_bytes_is_json_or_malformed(body):
    attempt(lambda: json_parse(body))  # anything but MalformedInput fails the test


@given(json_values)
def test_json_parse_reads_back_every_value_it_can_hold_and_refuses_the_rest(value):
    body = json.dumps(value).encode()  # ASCII: lone surrogates travel as \ud800 escapes
    # What JSON means by it: an escaped high and low surrogate side by side are one character.
    meant = json.loads(body)

    parsed, refused = attempt(lambda: json_parse(body))

    if has_lone_surrogate(meant):
        assert refused.code == "invalid_unicode"
    else:
        assert refused is None
        assert parsed == meant


@given(
    st.integers(min_value=MAX_DEPTH + 1, max_value=50_000),
    st.sampled_from([('{"a":', "1", "}"), ("[", "", "]")]),
)
def test_json_nested_past_the_limit_is_too_deep_however_deep(levels, brackets):
    opening, inside, closing = brackets
    body = opening * levels + inside + closing * levels

    _, refused = attempt(lambda: json_parse(body))

    assert refused is not None
    assert refused.code == "too_deep"


@given(st.one_of(edge_text, st.text(string.digits, max_size=30)))
def test_ascii_int_reads_exactly_ascii_digits_within_the_limit(value):
    readable = value.isascii() and value.isdigit() and len(value) <= MAX_INT_DIGITS

    number, refused = attempt(lambda: ascii_int(value))

    assert (refused is None) == readable
    if readable:
        assert number == int(value)


@given(st.one_of(json_values, st.datetimes().map(datetime.isoformat)))
def test_aware_time_is_none_or_an_aware_utc_time_for_anything(value):
    parsed = aware_time(value)

    assert parsed is None or parsed.utcoffset() == timedelta(0)


@given(
    st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31)),
    st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1),
)
def test_aware_time_reads_every_iso_time_as_the_same_instant_in_utc(moment, offset_minutes):
    sent = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))

    parsed = aware_time(sent.isoformat())

    assert parsed == sent
    assert parsed.tzinfo == UTC


def read_every_way(fields: Fields) -> None:
    """Every reader on key "k", each checked against its promise or refusing."""
    readers = [
        (lambda: fields.text("k", max_length=10), lambda v: isinstance(v, str) and len(v) <= 10),
        (lambda: fields.identifier("k", max_length=10), lambda v: isinstance(v, str) and v),
        (
            lambda: fields.integer("k", minimum=0, maximum=INT64[1]),
            lambda v: v is None or (type(v) is int and 0 <= v <= INT64[1]),
        ),
        (
            lambda: fields.decimal("k", max_digits=14, decimal_places=2),
            lambda v: (
                v is None
                or (v.is_finite() and v.as_tuple().exponent == -2 and abs(v) < Decimal(10**12))
            ),
        ),
        (lambda: fields.time("k"), lambda v: v is None or v.utcoffset() == timedelta(0)),
        (lambda: fields.object("k"), lambda v: isinstance(v, Fields)),
        (lambda: fields.objects("k"), lambda v: all(isinstance(item, Fields) for item in v)),
    ]
    for read, promised in readers:
        value, refused = attempt(read)
        if refused is not None:
            assert refused.loc[:1] == ("k",)
            assert str(refused).startswith("`k")
        else:
            assert promised(value), value
            assert not (isinstance(value, str) and "\x00" in value)


@given(json_values)
def test_types_trusted_after_the_signature_every_reader_returns_its_type_or_refuses(value):
    read_every_way(Fields({"k": value}))


@given(st.one_of(st.none(), edge_text, huge_integers, st.floats(allow_nan=False)))
def test_an_id_read_back_is_exactly_what_was_sent(value):
    readable = type(value) is int or (isinstance(value, str) and value and "\x00" not in value)

    read, refused = attempt(lambda: Fields({"id": value}).identifier("id", max_length=None))

    assert (refused is None) == bool(readable)
    if readable:
        assert read == (value if isinstance(value, str) else str(value))


@given(st.decimals(allow_nan=False, allow_infinity=False, places=2,
                   min_value=-(10**12) + 1, max_value=10**12 - 1))  # fmt: skip
def test_money_the_column_holds_reads_back_exactly(amount):
    assert Fields({"p": str(amount)}).decimal("p", max_digits=14, decimal_places=2) == amount


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_money_sent_as_any_float_is_a_column_value_or_refused(value):
    amount, refused = attempt(lambda: Fields({"p": value}).decimal("p", max_digits=14,
                                                                   decimal_places=2))  # fmt: skip

    if refused is not None:
        assert abs(value) >= 10**12 - 1
    else:
        assert math.isclose(float(amount), value, abs_tol=0.006)  # half a cent, and float error


@given(
    msg_id=edge_text,
    timestamp=st.one_of(edge_text, st.integers().map(str)),
    signature_header=edge_text,
    body=st.binary(max_size=50),
)
def test_standard_webhooks_verification_of_any_headers_is_a_signature_error_or_a_match(
    msg_id, timestamp, signature_header, body
):
    try:
        standard_verify(
            [SECRET], msg_id=msg_id, timestamp=timestamp, signature_header=signature_header,
            body=body,
        )  # fmt: skip
    except SignatureError:
        return
    raise AssertionError("headers made up at random verified")


@given(msg_id=st.text(string.ascii_letters, min_size=1, max_size=20), body=st.binary(max_size=50))
def test_a_correctly_signed_standard_webhook_always_verifies(msg_id, body):
    at = int(datetime.now(UTC).timestamp())
    signature = standard_signature(SECRET, msg_id, at, body)

    standard_verify([SECRET], msg_id=msg_id, timestamp=str(at), signature_header=signature,
                    body=body)  # fmt: skip
