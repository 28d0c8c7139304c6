"""`POST /webhook/activity`: the Qualia Marketplace contract, exactly as its clients expect."""

import hashlib
import logging

from django.http import JsonResponse

from channels_app.platforms.base import Platform, Problem, elapsed_ms
from channels_app.platforms.qualia import handlers, verify
from webhooks.request_ids import current_request_id

logger = logging.getLogger(__name__)

ACTIVITY_TYPES = (
    "order_request",
    "order_cancelled",
    "order_completed",
    "order_revision_requested",
    "message",
    "documents",
)


class Qualia(Platform):
    name = verify.PLATFORM
    receiver_paths = ("webhook/activity",)

    def rate_limit_key(self, request) -> str:
        try:
            return verify.basic_credentials(request.headers.get("Authorization", ""))[0]
        except verify.Unauthorized:
            return request.META.get("REMOTE_ADDR", "")

    def authenticate(self, request, body):
        return verify.authenticate(request.headers.get("Authorization", ""))

    def validate(self, payload) -> list[Problem]:
        # The seed's (pydantic's) error shapes, one entry per problem.
        if not isinstance(payload, dict):
            return [Problem(("body",), "value is not a valid dict", "type_error.dict")]
        problems = []
        for field in ("description", "type", "order_id"):
            if field not in payload:
                problems.append(Problem(("body", field), "field required", "value_error.missing"))
            elif not isinstance(payload[field], str):
                problems.append(Problem(("body", field), "str type expected", "type_error.str"))
        if isinstance(payload.get("type"), str) and payload["type"] not in ACTIVITY_TYPES:
            problems.append(
                Problem(("body", "type"), "value is not a valid enumeration member",
                        "type_error.enum")
            )  # fmt: skip
        if isinstance(payload.get("order_id"), str) and not payload["order_id"].strip():
            problems.append(
                Problem(("body", "order_id"), "ensure this value has at least 1 characters",
                        "value_error.any_str.min_length")
            )  # fmt: skip
        # What the activity's columns hold: a longer id is refused here, not cut short.
        for field, limit in (("order_id", handlers.ORDER_ID_LENGTH),
                             ("message_id", handlers.MESSAGE_ID_LENGTH)):  # fmt: skip
            if isinstance(payload.get(field), str) and len(payload[field]) > limit:
                problems.append(
                    Problem(("body", field), f"ensure this value has at most {limit} characters",
                            "value_error.any_str.max_length")
                )  # fmt: skip
        message_id = payload.get("message_id")
        if message_id is not None and not isinstance(message_id, str):
            problems.append(Problem(("body", "message_id"), "str type expected", "type_error.str"))
        elif payload.get("type") == "message" and not message_id:
            problems.append(
                Problem(("body", "message_id"), "message_id is required for message activities",
                        "value_error.missing")
            )  # fmt: skip
        return problems

    def describe(self, request, payload, body):
        # Qualia sends no delivery id: identical bodies are the same notification.
        return payload["type"], hashlib.sha256(body).hexdigest()

    def process(self, event, payload) -> bool:
        return handlers.activity_process(event, payload)

    def accepted(self, event, payload, *, duplicate, started):
        response_time_ms = elapsed_ms(started)
        logger.info(
            "qualia.activity",
            extra={
                "order_id": payload["order_id"],
                "activity_type": payload["type"],
                "response_time_ms": response_time_ms,
                "duplicate": duplicate,
            },
        )
        return JsonResponse(
            {
                "status": "success",
                "message": "Activity message received and processed",
                "order_id": payload["order_id"],
                "activity_type": payload["type"],
                "request_id": current_request_id(),
                "response_time_ms": response_time_ms,
            }
        )

    def unauthorized(self, reason):
        response = JsonResponse({"detail": reason}, status=401)
        response["WWW-Authenticate"] = 'Basic realm="qualia"'
        return response

    def bad_json(self, reason):
        return JsonResponse({"detail": "Invalid JSON body"}, status=400)  # the seed's exact body
