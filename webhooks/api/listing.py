"""What every list endpoint shares: newest-first cursor pages and the filters lists take.

drf-spectacular reads a view's `pagination_class` to document the page and its `cursor` and
`limit`, so the schema comes from the class that builds the answer.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
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
