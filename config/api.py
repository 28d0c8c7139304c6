"""What every app's REST API shares: newest-first cursor pages, the filters lists take, and the
OpenAPI schema of both and of every error answer.

The schema is derived from the same classes that build the answers: drf-spectacular reads a
view's `pagination_class` to document the page and its `cursor` and `limit`, and `ApiSchema`
adds to each operation the error answers its inputs can cause.
"""

import sys
from collections.abc import Mapping
from functools import cache

from django.http import QueryDict
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import permissions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from webhooks.untrusted import aware_time


class NewestFirstCursor(CursorPagination):
    """Pages newest first. A `limit` or `cursor` we cannot use answers 422 naming it, rather
    than a silently different page (DRF falls back to the default size) or a 404 or 500."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 500

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        # isdigit() alone admits other scripts' digits, which int() reads.
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= self.max_page_size):
            raise ValidationError(
                {self.page_size_query_param: [f"An integer from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = None
            valid = False
        else:
            # The position is an id (the ordering): anything else would reach the query.
            valid = cursor is None or cursor.position is None or cursor.position.isdigit()
        if not valid:
            raise ValidationError({self.cursor_query_param: ["Not a cursor this API gave out."]})
        return cursor

    def get_paginated_response_schema(self, schema):
        page = super().get_paginated_response_schema(schema)
        page["required"] = ["next", "previous", "results"]  # always there, null at the ends
        for link in ("next", "previous"):
            del page["properties"][link]["example"]  # DRF's, of another API (and mistyped)
        return page

    def get_schema_operation_parameters(self, view):
        cursor, limit = super().get_schema_operation_parameters(view)
        cursor["description"] = "The `next` or `previous` link's cursor; left out: the newest."
        limit["description"] = f"Items per page (default {self.page_size})."
        limit["schema"] = {
            "type": "integer",
            "minimum": 1,
            "maximum": self.max_page_size,
            "default": self.page_size,
        }
        return [cursor, limit]


# No docstring: drf-spectacular would show it as the description of every view using it.
class CursorPaginated:
    # For an APIView whose GET answers `self.paginated(...)`: newest-first cursor pages.
    pagination_class = NewestFirstCursor

    def paginated(self, queryset, serializer_class) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)


def since_parameter(what: str) -> OpenApiParameter:
    return OpenApiParameter(
        "since",
        OpenApiTypes.DATETIME,
        description=f"Only those {what} at or after this time (ISO 8601, UTC if no offset).",
    )


def parse_since(request):
    raw = request.query_params.get("since")
    if raw is None:
        return None
    since = aware_time(raw)  # None also for February 30th and offsets past the range
    if since is None:
        raise ValidationError({"since": ["Use an ISO 8601 date-time."]})
    return since


def choice_parameter(name: str, choices) -> OpenApiParameter:
    return OpenApiParameter(name, enum=list(choices.values), description="Only those with it.")


def parse_choice(request, name: str, choices) -> str | None:
    """The query parameter `name`, one of the TextChoices `choices`, or None when left out."""
    value = request.query_params.get(name)
    if value and value not in choices.values:
        raise ValidationError({name: [f"One of {', '.join(choices.values)}."]})
    return value or None


# --- JSON bodies read as documented ---------------------------------------------------------


def _json_type_problem(field, value) -> str | None:
    """Why `value`, as parsed from JSON, is not of the type the schema documents for `field`;
    None when it is, or when the field itself judges it (null, nested serializers, any JSON)."""
    if value is None or isinstance(
        field, serializers.JSONField | serializers.BaseSerializer | serializers.MultipleChoiceField
    ):
        return None
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Must be true or false."
    if isinstance(field, serializers.IntegerField):
        return (
            None
            if isinstance(value, int) and not isinstance(value, bool)
            else "Must be an integer."
        )
    if isinstance(field, serializers.FloatField | serializers.DecimalField):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return None if number else "Must be a number."
    if isinstance(
        field, serializers.CharField | serializers.ChoiceField | serializers.DateTimeField
    ):
        return None if isinstance(value, str) else "Must be a string."
    if isinstance(field, serializers.ListField):
        if not isinstance(value, list):
            return "Must be a list."
        return next(filter(None, (_json_type_problem(field.child, v) for v in value)), None)
    if isinstance(field, serializers.DictField):
        if not isinstance(value, dict):
            return "Must be an object."
        return next(
            filter(None, (_json_type_problem(field.child, v) for v in value.values())), None
        )
    return None


class JSONTypes:
    """For a serializer that reads request bodies: each value must have the JSON type the
    schema documents. DRF's fields coerce (0 to "0", "5" to 5, "yes" to True), so a body the
    schema calls invalid was taken as valid; forms (the browsable API) are all strings and
    are still read DRF's way."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping) and not isinstance(data, QueryDict):
            errors = {
                name: [problem]
                for name, field in self.fields.items()
                if not field.read_only
                and name in data
                and (problem := _json_type_problem(field, data[name]))
            }
            if errors:
                raise ValidationError(errors)
        return super().to_internal_value(data)


# --- Error answers in the schema -------------------------------------------------------------


# Documentation only: config.errors builds these bodies.
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
