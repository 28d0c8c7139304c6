"""The one place untrusted JSON, header integers and times are read (issue 12)."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from webhooks.untrusted import MAX_DEPTH, MalformedInput, ascii_int, aware_time, json_parse


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_json_parse_reads_ordinary_json_from_bytes_and_text():
    body = {"id": "evt_1", "data": {"amount": 12.5, "items": [1, None, True]}, "emoji": "😀"}
    assert json_parse(json.dumps(body).encode()) == body
    assert json_parse(json.dumps(body)) == body


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5_000, 200_000])
def test_json_nested_too_deep_is_malformed_input_not_a_recursion_error(depth):
    with pytest.raises(MalformedInput) as raised:
        json_parse(nested(depth))
    assert raised.value.code == "too_deep"


def test_json_nested_exactly_to_the_limit_parses():
    assert json_parse(nested(MAX_DEPTH)) == json.loads(nested(MAX_DEPTH))


def test_deep_objects_inside_a_wide_document_are_found():
    wide = {"items": [{"n": i} for i in range(100)], "deep": json.loads(nested(MAX_DEPTH))}
    with pytest.raises(MalformedInput, match="deeper"):
        json_parse(json.dumps(wide))


@pytest.mark.parametrize(
    "body",
    [rb'{"a": "\ud800"}', rb'{"a": "x\udfff"}', rb'{"\udc00": 1}', rb'["\ud83d"]', rb'"\ud800"'],
)
def test_a_lone_surrogate_in_a_string_or_key_is_invalid_unicode(body):
    with pytest.raises(MalformedInput) as raised:
        json_parse(body)
    assert raised.value.code == "invalid_unicode"


def test_an_escaped_surrogate_pair_is_an_ordinary_character():
    assert json_parse(rb'{"a": "\ud83d\ude00"}') == {"a": "😀"}


def test_an_escaped_backslash_before_u_d800_is_plain_text():
    assert json_parse(rb'{"a": "\\ud800"}') == {"a": "\\ud800"}


@pytest.mark.parametrize(
    "body", [b"NaN", b'{"a": Infinity}', b"[-Infinity]", b"1e999", b"", b"{", b"\xff\xfe{", b"[1,]"]
)
def test_what_is_not_json_is_malformed(body):
    with pytest.raises(MalformedInput):
        json_parse(body)


def test_an_integer_past_pythons_digit_limit_is_malformed_not_an_unhandled_value_error():
    with pytest.raises(MalformedInput):
        json_parse(b"1" * 5_000)


def test_a_body_over_max_bytes_is_too_large():
    with pytest.raises(MalformedInput) as raised:
        json_parse(b'{"a": "' + b"x" * 100 + b'"}', max_bytes=50)
    assert raised.value.code == "too_large"


def test_malformed_input_is_a_value_error_for_existing_callers():
    assert issubclass(MalformedInput, ValueError)


@pytest.mark.parametrize("value", ["0", "1700000000", "1700000000123"])
def test_ascii_int_reads_ascii_digits(value):
    assert ascii_int(value) == int(value)


@pytest.mark.parametrize(
    "value",
    [
        "\u00b2",  # superscript two: passes str.isdigit(), refused by int()
        "\u0661\u0667\u0660\u0660",  # Arabic-Indic digits: int() reads them, no sender means them
        "\uff11\uff12",  # fullwidth digits
        " 12",
        "12 ",
        "+12",
        "-12",
        "1_2",
        "",
        "1.5",
        None,
    ],
)
def test_ascii_int_refuses_anything_but_ascii_digits(value):
    with pytest.raises(MalformedInput):
        ascii_int(value)


def test_ascii_int_refuses_more_digits_than_allowed_before_int_sees_them():
    with pytest.raises(MalformedInput) as raised:
        ascii_int("9" * 5_000)
    assert raised.value.code == "too_large"
    with pytest.raises(MalformedInput):
        ascii_int("1234", max_digits=3)


def test_aware_time_moves_an_offset_postgresql_refuses_to_utc():
    parsed = aware_time("2024-05-03T08:30:00+23:00")
    assert parsed == datetime(2024, 5, 2, 9, 30, tzinfo=UTC)
    assert parsed.utcoffset() == timedelta(0)


def test_aware_time_reads_a_time_without_offset_as_utc():
    assert aware_time("2024-05-03T08:30:00") == datetime(2024, 5, 3, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "yesterday",
        "2024-13-01T00:00:00Z",
        "2024-01-01T00:00:00+99:00",
        "0001-01-01T00:00:00+05:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-05:00",  # after year 9999 in UTC
        12,
    ],
)
def test_aware_time_is_none_for_what_is_not_a_storable_time(value):
    assert aware_time(value) is None
