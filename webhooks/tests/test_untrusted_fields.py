"""Reading one typed field of a signed payload (webhooks.untrusted.Fields): examples.

The properties over every JSON value are in test_untrusted_properties.py.
"""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from webhooks.untrusted import INT32, Fields, MalformedInput


def refusal(read) -> MalformedInput:
    with pytest.raises(MalformedInput) as raised:
        read()
    return raised.value


def test_an_integer_id_is_read_as_its_digits():
    assert Fields({"id": 820982911946154508}).identifier("id", max_length=100) == (
        "820982911946154508"
    )


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (None, "`id` is required, not null."),
        ("", "`id` is required, not empty text."),
        (True, "`id` must be text or an integer, not a boolean."),
        (1.5, "`id` must be text or an integer, not a number."),
        ({"a": 1}, "`id` must be text or an integer, not an object."),
        (["1"], "`id` must be text or an integer, not a list."),
    ],
)
def test_an_id_that_is_not_text_or_an_integer_is_refused_never_stringified(value, said):
    exc = refusal(lambda: Fields({"id": value}).identifier("id", max_length=100))

    assert str(exc) == said
    assert exc.loc == ("id",)


def test_a_missing_required_field_is_refused_as_missing():
    exc = refusal(lambda: Fields({}).identifier("id", max_length=100))

    assert (str(exc), exc.code) == ("`id` is required.", "missing")


def test_a_missing_or_null_optional_text_is_empty():
    fields = Fields({"b": None})

    assert fields.text("a", max_length=10) == fields.text("b", max_length=10) == ""


def test_text_longer_than_its_column_is_refused_not_cut_short():
    exc = refusal(lambda: Fields({"name": "x" * 101}).text("name", max_length=100))

    assert (str(exc), exc.code) == ("`name` is 101 characters long; at most 100 fit.", "too_large")


def test_a_nul_in_text_is_refused_as_unstorable():
    exc = refusal(lambda: Fields({"email": "a\x00b"}).text("email", max_length=255))

    assert exc.code == "unstorable"


def test_a_number_where_text_is_expected_is_refused():
    exc = refusal(lambda: Fields({"name": 1001}).text("name", max_length=100))

    assert str(exc) == "`name` must be text, not a number."


def test_the_path_of_a_nested_field_is_named():
    payload = {"line_items": [{"quantity": 1}, {"quantity": "2"}]}

    items = Fields(payload).objects("line_items")
    exc = refusal(lambda: items[1].integer("quantity", minimum=0, maximum=INT32[1]))

    assert str(exc) == "`line_items[1].quantity` must be an integer, not text."
    assert exc.loc == ("line_items", 1, "quantity")


def test_a_list_entry_that_is_not_an_object_is_refused_not_skipped():
    exc = refusal(lambda: Fields({"line_items": [{}, 7]}).objects("line_items"))

    assert str(exc) == "`line_items[1]` must be an object, not a number."


@pytest.mark.parametrize("value", [-1, 2**31, 10**60, True, 2.0])
def test_an_integer_out_of_its_column_or_not_an_integer_is_refused(value):
    with pytest.raises(MalformedInput):
        Fields({"n": value}).integer("n", minimum=0, maximum=INT32[1])


def test_a_missing_integer_is_its_default():
    assert Fields({}).integer("n", minimum=0, maximum=9, default=0) == 0


@pytest.mark.parametrize(
    ("value", "amount"),
    [("19.99", Decimal("19.99")), (19.5, Decimal("19.50")), (3, Decimal("3.00")),
     ("0.005", Decimal("0.00")), ("-2", Decimal("-2.00"))],
)  # fmt: skip
def test_money_is_read_from_text_or_a_number_rounded_to_its_column(value, amount):
    assert Fields({"p": value}).decimal("p", max_digits=14, decimal_places=2) == amount


@pytest.mark.parametrize(
    "value", ["1e20", "NaN", "Infinity", " 1", "1,5", "\u0661\u0662", "1" * 13, 1e13, True, {}]
)
def test_money_that_is_not_a_plain_decimal_or_too_large_for_its_column_is_refused(value):
    with pytest.raises(MalformedInput):
        Fields({"p": value}).decimal("p", max_digits=14, decimal_places=2)


def test_money_that_rounds_past_its_column_is_refused():
    with pytest.raises(MalformedInput):
        Fields({"p": "999999999999.999"}).decimal("p", max_digits=14, decimal_places=2)


def test_a_time_is_read_as_aware_utc():
    assert Fields({"at": "2026-11-20T10:00:00-05:00"}).time("at") == datetime(
        2026, 11, 20, 15, tzinfo=UTC
    )


@pytest.mark.parametrize("value", ["soon", "2026-13-01T00:00:00Z", 1700000000, {}])
def test_a_time_that_is_not_one_is_refused_not_read_as_missing(value):
    # Read as missing, it would make a stale update look newer than every stored one.
    with pytest.raises(MalformedInput):
        Fields({"at": value}).time("at")


def test_a_payload_that_is_not_an_object_is_refused():
    exc = refusal(lambda: Fields([1]))

    assert str(exc) == "The payload must be an object, not a list."


def test_a_missing_nested_object_reads_as_empty_and_a_wrong_one_is_refused():
    assert Fields({}).object("data").text("id", max_length=10) == ""
    exc = refusal(lambda: Fields({"data": "x"}).object("data"))
    assert str(exc) == "`data` must be an object, not text."
