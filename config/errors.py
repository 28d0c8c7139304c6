"""Every error leaves the server as JSON, in the shape of `webhooks.errors.error_body`.

Validation errors answer 422 and name each field in `errors`; a body that is not JSON, or a
request Django refuses as suspicious (more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS), answers
400. Django's own 400/403/404/500 handlers answer JSON too, so no HTML page or stack trace
reaches a client when DEBUG is off.
"""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db import DataError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from webhooks.errors import DATABASE_UNAVAILABLE, error_body

logger = logging.getLogger(__name__)


def api_exception_handler(exc, context):
    # As DRF's own handler converts them, so that the code says what happened, not "error".
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return Response(
            error_body("Validation failed.", "validation_error", errors),
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if isinstance(exc, RequestDataTooBig):  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE, as read
        return Response(
            error_body(
                f"The body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
                "payload_too_large",
            ),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, SuspiciousOperation):
        # Django's own answer to these is 400 too (e.g. TooManyFieldsSent while DRF parses a
        # form or the query string); without this they escaped as a 500 with a traceback.
        logger.warning("Suspicious request refused: %s", exc)
        return Response(error_body(str(exc), "bad_request"), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DataError):
        # A value the database refuses (a NUL in a filter, a number out of range): a retry
        # meets it again, so it is the client's to change.
        reason = str(exc).splitlines()[0] if str(exc) else "value out of range"
        return Response(
            error_body(f"A value cannot be stored or compared: {reason}", "invalid_value"),
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if isinstance(exc, DATABASE_UNAVAILABLE):
        logger.exception("Database unavailable")
        return Response(
            error_body("The database is unavailable; please retry.", "unavailable"),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    response = exception_handler(exc, context)
    if response is None:
        # Unexpected: log it with the traceback, answer a generic 500 without one.
        logger.exception("Unhandled API error")
        return Response(error_body("Internal server error.", "server_error"), status=500)
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    code = getattr(exc, "default_code", "error")
    if isinstance(detail, dict | list):
        response.data = error_body("Request failed.", code, detail)
    else:
        response.data = error_body(str(detail), getattr(detail, "code", code) or code)
    return response


def bad_request(request, exception=None):
    return JsonResponse(error_body("Bad request.", "bad_request"), status=400)


def permission_denied(request, exception=None):
    return JsonResponse(error_body("Permission denied.", "permission_denied"), status=403)


def not_found(request, exception=None):
    return JsonResponse(error_body("Not found.", "not_found"), status=404)


def server_error(request):
    return JsonResponse(error_body("Internal server error.", "server_error"), status=500)
