"""The retry policy is a pure function: tested without a broker, a clock or a network."""

import pytest

from subscriptions.delivery.retry import Outcome, decide, retry_after_seconds
from webhooks.backoff import backoff_seconds
from webhooks.http.result import SendResult

CAP = 6 * 3600
NOW = 1_700_000_000.0


def result(status=None, error_kind="", headers=None):
    return SendResult(status, 5, headers=headers or {}, error_kind=error_kind)


def decision(res, attempt=1, retry_count=3):
    return decide(
        res,
        attempt_number=attempt,
        retry_count=retry_count,
        cap_seconds=CAP,
        now_timestamp=NOW,
        rng=lambda: 0.5,
    )


def test_retry_count_3_waits_about_2_4_8_seconds():
    assert [backoff_seconds(n, cap_seconds=CAP, rng=lambda: 0.5) for n in (1, 2, 3)] == [2, 4, 8]


def test_jitter_stays_within_20_percent():
    assert backoff_seconds(3, cap_seconds=CAP, rng=lambda: 0.0) == pytest.approx(6.4)
    assert backoff_seconds(3, cap_seconds=CAP, rng=lambda: 1.0) == pytest.approx(9.6)


def test_the_default_17_retries_span_about_27_hours():
    total = sum(backoff_seconds(n, cap_seconds=CAP, rng=lambda: 0.5) for n in range(1, 18))
    assert 26 * 3600 < total < 28 * 3600


def test_delays_are_capped():
    assert backoff_seconds(30, cap_seconds=CAP, rng=lambda: 0.5) == CAP


@pytest.mark.parametrize("status", [200, 201, 204, 299])
def test_2xx_succeeds(status):
    assert decision(result(status)).outcome == Outcome.SUCCEEDED


@pytest.mark.parametrize(
    ("status", "error_kind"),
    [
        (None, "timeout"),
        (None, "connection"),
        (408, "http"),
        (429, "http"),
        (500, "http"),
        (502, "http"),
        (503, "http"),
    ],
)
def test_network_errors_timeouts_408_429_and_5xx_retry(status, error_kind):
    outcome = decision(result(status, error_kind), attempt=2)
    assert outcome.outcome == Outcome.RETRY
    assert outcome.delay_seconds == 4


@pytest.mark.parametrize("status", [301, 302, 400, 401, 403, 404, 422])
def test_other_3xx_and_4xx_fail_without_retry(status):
    assert decision(result(status, "http")).outcome == Outcome.FAILED


def test_a_forbidden_address_never_retries():
    assert decision(result(None, "forbidden_address")).outcome == Outcome.FAILED


def test_410_gone_asks_to_disable():
    assert decision(result(410, "http")).outcome == Outcome.GONE


def test_the_last_allowed_attempt_fails_for_good():
    assert decision(result(500, "http"), attempt=3, retry_count=3).outcome == Outcome.RETRY
    assert decision(result(500, "http"), attempt=4, retry_count=3).outcome == Outcome.FAILED
    assert decision(result(500, "http"), attempt=1, retry_count=0).outcome == Outcome.FAILED


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_is_honoured_on_429_and_503(status):
    outcome = decision(result(status, "http", {"Retry-After": "120"}))
    assert outcome.delay_seconds == 120


def test_retry_after_is_found_whatever_the_case_of_its_name():
    assert decision(result(429, "http", {"RETRY-AFTER": "120"})).delay_seconds == 120


def test_retry_after_is_capped_and_ignored_on_other_statuses():
    assert decision(result(429, "http", {"Retry-After": "999999"})).delay_seconds == CAP
    assert decision(result(500, "http", {"Retry-After": "120"})).delay_seconds == 2


def test_retry_after_accepts_an_http_date():
    assert retry_after_seconds("Tue, 14 Nov 2023 22:14:20 GMT", now_timestamp=NOW) == 60
    assert retry_after_seconds("soon", now_timestamp=NOW) is None


@pytest.mark.parametrize("value", ["²", "١٢", "9" * 5000, "-5", "1e3"])
def test_a_retry_after_that_is_not_seconds_in_ascii_digits_is_ignored(value):
    assert retry_after_seconds(value, now_timestamp=NOW) is None
