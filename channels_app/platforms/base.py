"""What a platform package provides to the shared receiver pipeline (channels_app.receiving).

A platform authenticates a request on its raw bytes, validates the parsed payload, names its
topic and dedupe id, shapes its own answers (some platforms' clients expect exact bodies) and
processes a stored event. Adding a platform is a package with one of these and one line in
`channels_app.platforms.registry`.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest, JsonResponse

from channels_app.models import ChannelAccount, InboundEvent
from webhooks.untrusted import MalformedInput

# The longest topic a row holds: a receiver refuses a longer one rather than cut it short.
TOPIC_LENGTH = InboundEvent._meta.get_field("topic").max_length


class Unauthorized(Exception):
    """Authentication failed; the message is safe to show."""


class NotConfigured(Exception):
    """Valid credentials that the deployment cannot act on yet (an environment-configured
    account with no owner to give its events to): 503 with Retry-After, so the platform
    retries instead of dropping the event as it would a 401. The message says what to do."""


class Unprocessable(Exception):
    """A stored event that can never be processed as it is; the message says why.

    It is recorded as failed with that reason and not retried: no retry can clear it, only a
    change (to the code, or reprocessing once the platform is configured right) can.
    """


@dataclass(frozen=True)
class Problem:
    """One validation problem: where, what, and a machine-readable type."""

    loc: tuple[str | int, ...]
    msg: str
    type: str


_PROBLEM_TYPES = {"missing": "value_error.missing", "wrong_type": "type_error"}


def field_problems(*reads: Callable[[], object]) -> list[Problem]:
    """The reads of payload fields (webhooks.untrusted.Fields) that refuse, one Problem each.

    For what a receiver checks before storing (the topic, the dedupe id): each read is a
    callable, so one refusal does not hide the next.
    """
    problems = []
    for read in reads:
        try:
            read()
        except MalformedInput as exc:
            kind = _PROBLEM_TYPES.get(exc.code, "value_error")
            problems.append(Problem(("body", *exc.loc), str(exc), kind))
    return problems


class Platform:
    name: str = ""
    # True when the signature travels inside the JSON body (Amazon SNS): the body is then
    # parsed and its envelope checked before authentication, as a malformed one has nothing
    # to verify.
    signature_in_body: bool = False
    # Paths its clients post to besides /webhooks/<name> (config/urls.py mounts them).
    receiver_paths: tuple[str, ...] = ()

    def rate_limit_key(self, request: HttpRequest) -> str:
        """Who is posting, before authentication (a header, a username): the rate-limit unit."""
        return request.META.get("REMOTE_ADDR", "")

    def authenticate(self, request: HttpRequest, body: bytes) -> ChannelAccount:
        raise NotImplementedError

    def validate(self, payload) -> list[Problem]:
        return (
            []
            if isinstance(payload, dict)
            else [Problem(("body",), "expected an object", "type_error")]
        )

    def envelope_problems(self, payload) -> list[Problem]:
        """With `signature_in_body`: what stops the signature from being checked at all."""
        return []

    def describe(self, request: HttpRequest, payload: dict, body: bytes) -> tuple[str, str]:
        """(topic, external id) of the event; the id is what duplicates share."""
        raise NotImplementedError

    def process(self, event: InboundEvent, payload: dict) -> bool:
        """Project the event and publish internal events; False when the topic is ignored."""
        raise NotImplementedError

    # Answers. Defaults are the platform-neutral JSON shape; platforms may override.
    def accepted(self, event: InboundEvent, payload: dict, *, duplicate: bool, started: float):
        return JsonResponse(
            {"status": "duplicate" if duplicate else "received", "id": event.pk,
             "response_time_ms": elapsed_ms(started)}
        )  # fmt: skip

    def unauthorized(self, reason: str) -> JsonResponse:
        return JsonResponse({"detail": reason, "code": "authentication_failed"}, status=401)

    def invalid(self, problems: list[Problem]) -> JsonResponse:
        return JsonResponse(
            {"detail": [{"loc": list(p.loc), "msg": p.msg, "type": p.type} for p in problems]},
            status=422,
        )

    def bad_json(self, reason: str) -> JsonResponse:
        """A body that is not JSON we can hold; `reason` says why (webhooks.untrusted)."""
        return JsonResponse({"detail": f"Invalid JSON body: {reason}", "code": "parse_error"},
                            status=400)  # fmt: skip


def elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
