"""The OpenAPI schema of every error answer, for each app's REST API.

`ApiSchema` (settings' DEFAULT_SCHEMA_CLASS) adds to each operation the error answers its
inputs can cause, with the one `Error` component that webhooks.errors builds the bodies of.
"""

import sys
from functools import cache

from drf_spectacular.openapi import AutoSchema
from rest_framework import permissions, serializers
from rest_framework.authentication import SessionAuthentication


# Documentation only: webhooks.errors and config.errors build these bodies.
class ErrorSerializer(serializers.Serializer):
    """The body of every error answer."""

    detail = serializers.CharField(help_text="What is wrong, for a person.")
    code = serializers.CharField(
        help_text=(
            "What is wrong, for a program: e.g. validation_error, invalid_value, parse_error, "
            "not_authenticated, authentication_failed, not_found, payload_too_large, "
            "unsupported_media_type, unavailable."
        )
    )
    errors = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="Validation errors (422): each field's messages, by field name.",
    )


JSON = "application/json"


def _header(description: str) -> dict:
    return {"schema": {"type": "string"}, "description": description}


def _character_class(characters: list[int]) -> str:
    """A regular expression character class of these code points, as ranges of \\uXXXX
    escapes (which JSON Schema's ECMA-262 patterns and Python's re read alike)."""
    ranges: list[list[int]] = []
    for code in characters:
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "".join(
        f"\\u{first:04x}" if first == last else f"\\u{first:04x}-\\u{last:04x}"
        for first, last in ranges
    )


@cache
def not_only_whitespace() -> str:
    """A pattern for what DRF's CharField keeps after trimming: a value of only whitespace (all
    str.strip() removes: what str.isspace() calls whitespace) is blank once trimmed."""
    spaces = [code for code in range(sys.maxunicode + 1) if chr(code).isspace()]
    return f"[^{_character_class(spaces)}]"


class ApiSchema(AutoSchema):
    """drf-spectacular's AutoSchema, adding the error answers an operation's inputs can cause.

    A view documents any other error it returns with `extend_schema` (and so overrides these).
    A view whose path parameters filter rather than look something up (so it never answers
    404) says so with `path_lookup = False`.
    """

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        refuses_blank = isinstance(field, serializers.CharField) and not field.allow_blank
        if direction == "request" and refuses_blank and field.trim_whitespace:
            schema.setdefault("pattern", not_only_whitespace())
        return schema

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        responses = operation["responses"]
        for status, description, headers in self._errors(operation):
            answer = {"description": description, "content": {JSON: {"schema": error}}}
            if headers:
                answer["headers"] = headers
            responses.setdefault(str(status), answer)
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _errors(self, operation):
        parameters = operation.get("parameters", [])
        in_path = [p for p in parameters if p["in"] == "path"]
        in_query = [p for p in parameters if p["in"] == "query"]
        has_body = "requestBody" in operation
        yield (
            400,
            # DRF reads the query string of every request (its `format` override).
            "The body is not JSON we can read (parse_error), or the request has more fields "
            "than Django accepts (bad_request)."
            if has_body
            else "More query parameters than Django accepts (bad_request).",
            None,
        )
        if not any(isinstance(p, permissions.AllowAny) for p in self.view.get_permissions()):
            yield (
                401,
                "No credentials, or wrong ones.",
                {"WWW-Authenticate": _header('The challenge: `Bearer realm="api"`.')},
            )
        unsafe = self.method not in permissions.SAFE_METHODS
        if unsafe and any(
            isinstance(a, SessionAuthentication) for a in self.view.get_authenticators()
        ):
            yield 403, "Authenticated by session cookie without a valid CSRF token.", None
        if in_path and getattr(self.view, "path_lookup", True):
            yield 404, "Nothing of yours has this id.", None
        yield 406, "The Accept header names no type the API answers in (application/json).", None
        if has_body:
            yield 413, "The body is larger than the API accepts.", None
            yield 415, "The body is not sent as application/json.", None
        # A string the database cannot hold (a NUL) is refused as invalid_value wherever it goes.
        strings = [p for p in in_path if p["schema"].get("type") == "string"]
        if has_body or in_query or strings:
            yield 422, "A field or parameter is invalid; `errors` names each field.", None
        yield (
            503,
            "The database is unavailable; retry.",
            {"Retry-After": _header("Seconds to wait before retrying.")},
        )
