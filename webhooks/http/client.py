"""Blocking outbound calls, on requests-hardened (Saleor's).

The address a hostname resolves to is checked *at connect time* and the checked IP is the one
connected to, so DNS rebinding cannot slip past a check made at creation. Redirects are never
followed, every call has a timeout, and one session per policy and process keeps connections
alive per host. `post` never raises: it returns a SendResult the retry policy can judge.
"""

import time
from functools import cache

import requests
from django.conf import settings
from requests_hardened import Config, HTTPSession
from requests_hardened.ip_filter import InvalidIPAddress

from webhooks.http.result import (
    BODY_HEAD_BYTES,
    MAX_DRAIN_BYTES,
    ErrorKind,
    SendResult,
    answered,
    failure,
)

DEFAULT_TIMEOUT = (5, 10)  # connect, read


@cache
def _session(*, allow_private: bool, user_agent: str) -> requests.Session:
    session = HTTPSession(
        Config(
            ip_filter_enable=not allow_private,
            ip_filter_allow_loopback_ips=False,
            never_redirect=True,
            default_timeout=DEFAULT_TIMEOUT,
            user_agent_override=user_agent,
        )
    )
    # No proxy or netrc from the environment: a proxy would be the address the IP filter
    # checks, and reading the environment on every request cost ~0.5 ms per delivery.
    session.trust_env = False
    return session


def session() -> requests.Session:
    """The shared hardened session under the current policy (WEBHOOKS_ALLOW_PRIVATE_URLS).

    Callers still pass `timeout` and `allow_redirects=False` on each call, so the rule is
    visible where the call is made; the session enforces both anyway.
    """
    return _session(
        allow_private=settings.WEBHOOKS_ALLOW_PRIVATE_URLS, user_agent=settings.WEBHOOKS_USER_AGENT
    )


def read_capped(response: requests.Response, *, limit: int, deadline: float) -> bytes:
    """At most `limit` bytes of a streamed body; stops at `deadline` (a perf_counter time), so
    an endpoint trickling its answer cannot hold the caller past one more read timeout."""
    body = b""
    for chunk in response.iter_content(chunk_size=min(limit, 16 * 1024) or 1):
        body += chunk
        if len(body) >= limit or time.perf_counter() >= deadline:
            break
    return body[:limit]


def post(url: str, *, body: bytes, headers: dict[str, str], timeout_seconds: float) -> SendResult:
    """POST `body` once; the first BODY_HEAD_BYTES of the answer are kept."""
    started = time.perf_counter()

    def elapsed_ms() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        with session().post(
            url,
            data=body,
            headers=headers,
            timeout=(min(timeout_seconds, 5), timeout_seconds),
            allow_redirects=False,
            stream=True,
        ) as response:
            head = read_capped(response, limit=MAX_DRAIN_BYTES, deadline=started + timeout_seconds)[
                :BODY_HEAD_BYTES
            ]
            return answered(response.status_code, response.headers, head, elapsed_ms())
    except InvalidIPAddress as exc:
        return failure(ErrorKind.FORBIDDEN_ADDRESS, f"address not allowed: {exc}", elapsed_ms())
    except requests.Timeout as exc:
        return failure(ErrorKind.TIMEOUT, str(exc), elapsed_ms())
    except requests.RequestException as exc:
        return failure(ErrorKind.CONNECTION, str(exc), elapsed_ms())
