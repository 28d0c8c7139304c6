"""Request bodies sent with `Transfer-Encoding: chunked`, read under a size cap.

A chunked request has no Content-Length, and Django reads a body only as far as that header
says: under gunicorn every chunked webhook arrived empty (Qualia answered 400, signed
Shopify and Stripe requests 401, an oversized one 400 instead of 413). gunicorn decodes the
chunks itself and says so with `wsgi.input_terminated` (it marks the end of input), so the
body can be read to its end: here, at most the largest body any endpoint accepts, counted
while reading, and 413 past it. The body is then handed on with its Content-Length, so
every later check (the receivers' MAX_PAYLOAD_SIZE_MB, Django's DATA_UPLOAD_MAX_MEMORY_SIZE)
sees it as it sees any other request.
"""

import io

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import JsonResponse
from django.utils.decorators import sync_and_async_middleware

from webhooks.errors import error_body

_READ_SIZE = 64 * 1024


def body_limit() -> int:
    """The largest body any endpoint accepts: the receivers' cap, or Django's if larger."""
    limit = settings.MAX_PAYLOAD_SIZE_MB * 1024 * 1024
    return max(limit, settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)


def _is_unmeasured_chunked(meta: dict) -> bool:
    return (
        meta.get("wsgi.input_terminated") is True
        and not meta.get("CONTENT_LENGTH")
        and "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower()
    )


@sync_and_async_middleware
def chunked_body_middleware(get_response):
    """Reads a chunked body before anything else can read it as empty.

    WSGI only: an ASGI server hands Django the whole body itself, so under ASGI (the live
    streams) this middleware is not in the chain at all.
    """
    if iscoroutinefunction(get_response):
        return get_response

    def middleware(request):
        if _is_unmeasured_chunked(request.META):
            limit = body_limit()
            body = _read(request.META["wsgi.input"], limit + 1)
            if len(body) > limit:
                return JsonResponse(
                    error_body(f"Body over {limit} bytes.", "payload_too_large"), status=413
                )
            request.META["CONTENT_LENGTH"] = str(len(body))
            # What WSGIRequest builds from a Content-Length; nothing has read it yet.
            request._stream = LimitedStream(io.BytesIO(body), len(body))
        return get_response(request)

    return middleware


def _read(stream, most: int) -> bytes:
    chunks, size = [], 0
    while size < most and (chunk := stream.read(min(_READ_SIZE, most - size))):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
