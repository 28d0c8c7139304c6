"""The one HTTP client for outbound calls.

Built on requests-hardened (Saleor's): the address a hostname resolves to is checked against
private, loopback, link-local, multicast and reserved ranges *at connect time* and the checked
IP is the one connected to, so DNS rebinding cannot slip past a check made at creation. Redirects
are never followed, every call has a timeout, and one session per process keeps connections
alive per endpoint. `post` never raises: it returns a SendResult the retry policy can judge.
"""

import ipaddress
import socket
import time
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import urlsplit

import requests
from requests_hardened import Config, HTTPSession
from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES, InvalidIPAddress

BODY_HEAD_BYTES = 4096
_MAX_DRAIN_BYTES = 64 * 1024  # read at most this much so the connection can be reused


@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    duration_ms: int
    headers: dict[str, str] = field(default_factory=dict)
    body_head: str = ""
    error_kind: str = ""
    error_message: str = ""

    @property
    def retry_after(self) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == "retry-after"), None)


def _storable(text: str) -> str:
    """PostgreSQL text cannot hold NUL, and a response may carry any bytes."""
    return text.replace("\x00", "\ufffd")


def address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or any(ip in network for network in EXTRA_BLOCKED_NET_RANGES)
    )


def url_problem(url: str, *, allow_private: bool) -> str | None:
    """Why `url` cannot be a subscription endpoint, or None.

    Without `allow_private` (production) the scheme must be https and no address the host
    resolves to now may be private; the transport checks the address again at every send.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Enter an http(s) URL with a host."
    try:
        port = parts.port
    except ValueError:
        return "The URL's port is not a valid port number."
    if allow_private:
        return None
    if parts.scheme != "https":
        return "Only https URLs are allowed."
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, port or 443)}
    except (socket.gaierror, UnicodeError):
        return None  # not resolvable now; the send-time check still applies
    if not all(address_is_public(address.split("%")[0]) for address in addresses):
        return "The URL resolves to a private, loopback or reserved address."
    return None


@cache
def _session(*, allow_private: bool, user_agent: str) -> requests.Session:
    session = HTTPSession(
        Config(
            ip_filter_enable=not allow_private,
            ip_filter_allow_loopback_ips=False,
            never_redirect=True,
            default_timeout=(5, 10),
            user_agent_override=user_agent,
        )
    )
    # No proxy or netrc from the environment: a proxy would be the address the IP filter
    # checks, and reading the environment on every request cost ~0.5 ms per delivery.
    session.trust_env = False
    return session


def _read_head(response: requests.Response, *, deadline: float) -> str:
    """The first BODY_HEAD_BYTES of the body; reading stops at _MAX_DRAIN_BYTES or at
    `deadline`, so an endpoint trickling its answer cannot hold the worker past one more
    read timeout."""
    head, read = b"", 0
    for chunk in response.iter_content(chunk_size=BODY_HEAD_BYTES):
        if len(head) < BODY_HEAD_BYTES:
            head += chunk[: BODY_HEAD_BYTES - len(head)]
        read += len(chunk)
        if read >= _MAX_DRAIN_BYTES or time.perf_counter() >= deadline:
            break
    return _storable(head.decode("utf-8", errors="replace"))


def post(
    url: str,
    *,
    body: bytes,
    headers: dict[str, str],
    timeout_seconds: float,
    allow_private: bool,
    user_agent: str,
) -> SendResult:
    session = _session(allow_private=allow_private, user_agent=user_agent)
    started = time.perf_counter()

    def elapsed_ms() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        with session.post(
            url,
            data=body,
            headers=headers,
            timeout=(min(timeout_seconds, 5), timeout_seconds),
            allow_redirects=False,
            stream=True,
        ) as response:
            body_head = _read_head(response, deadline=started + timeout_seconds)
            status = response.status_code
            result_headers = {k: _storable(v) for k, v in response.headers.items()}
    except InvalidIPAddress as exc:
        return SendResult(
            None,
            elapsed_ms(),
            error_kind="forbidden_address",
            error_message=f"address not allowed: {exc}",
        )
    except requests.Timeout as exc:
        return SendResult(
            None, elapsed_ms(), error_kind="timeout", error_message=_storable(str(exc))[:500]
        )
    except requests.RequestException as exc:
        return SendResult(
            None, elapsed_ms(), error_kind="connection", error_message=_storable(str(exc))[:500]
        )
    error_kind = ""
    if 300 <= status < 400:
        error_kind = "redirect"
    elif status >= 400:
        error_kind = "http"
    return SendResult(
        status_code=status,
        duration_ms=elapsed_ms(),
        headers=result_headers,
        body_head=body_head,
        error_kind=error_kind,
        error_message=f"HTTP {status}" if error_kind else "",
    )
