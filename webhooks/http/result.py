"""What a send returns: a value the retry policy can judge, never an exception."""

from dataclasses import dataclass, field

BODY_HEAD_BYTES = 4096  # kept of a response body, for the attempt log
MAX_DRAIN_BYTES = 64 * 1024  # read at most this much, so the connection can be reused


class ErrorKind:
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    FORBIDDEN_ADDRESS = "forbidden_address"
    HTTP = "http"
    REDIRECT = "redirect"


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

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def storable(text: str) -> str:
    """PostgreSQL text cannot hold NUL, and a response may carry any bytes."""
    return text.replace("\x00", "\ufffd")


def failure(kind: str, message: str, duration_ms: int) -> SendResult:
    return SendResult(None, duration_ms, error_kind=kind, error_message=storable(message)[:500])


def answered(status: int, headers, head: bytes, duration_ms: int) -> SendResult:
    """The result of a request that got a status line back."""
    error_kind = ""
    if 300 <= status < 400:
        error_kind = ErrorKind.REDIRECT
    elif status >= 400:
        error_kind = ErrorKind.HTTP
    return SendResult(
        status_code=status,
        duration_ms=duration_ms,
        headers={k: storable(v) for k, v in headers.items()},
        body_head=storable(head.decode("utf-8", errors="replace")),
        error_kind=error_kind,
        error_message=f"HTTP {status}" if error_kind else "",
    )
