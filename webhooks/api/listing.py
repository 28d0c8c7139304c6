"""What every list endpoint shares: newest-first cursor pages and the `since` filter."""

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from webhooks.untrusted import aware_time


class NewestFirstCursor(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 500


def paginated(request, queryset, serializer_class) -> Response:
    paginator = NewestFirstCursor()
    page = paginator.paginate_queryset(queryset, request)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def parse_since(request):
    raw = request.query_params.get("since")
    if raw is None:
        return None
    since = aware_time(raw)  # None also for February 30th and offsets past the range
    if since is None:
        raise ValidationError({"since": ["Use an ISO 8601 date-time."]})
    return since
