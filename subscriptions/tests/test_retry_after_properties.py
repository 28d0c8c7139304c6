"""Retry-After as a subscriber sends it, whatever it sends (hypothesis)."""

import math

from hypothesis import given
from hypothesis import strategies as st

from subscriptions.delivery.retry import retry_after_seconds
from webhooks.tests.test_untrusted_properties import edge_text

NOW = 1_700_000_000.0
http_dates = st.builds(
    "{}, {:02d} {} {} {:02d}:{:02d}:{:02d} {}".format,
    st.sampled_from(["Mon", "Tue", "Sun", "Xyz"]),
    st.integers(min_value=0, max_value=40),
    st.sampled_from(["Jan", "Feb", "Dec", "Foo"]),
    st.integers(min_value=0, max_value=10**20),
    st.integers(min_value=0, max_value=25),
    st.integers(min_value=0, max_value=61),
    st.integers(min_value=0, max_value=61),
    st.sampled_from(["GMT", "+2359", "-2359", "+9999", ""]),
)


@given(st.one_of(st.none(), edge_text, http_dates, st.integers(min_value=0).map(str)))
def test_parsers_that_catch_too_little_retry_after_is_seconds_or_ignored_for_any_value(value):
    seconds = retry_after_seconds(value, now_timestamp=NOW)

    assert seconds is None or (seconds >= 0 and math.isfinite(seconds))
