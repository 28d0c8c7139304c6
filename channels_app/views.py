from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from channels_app.platforms.registry import platform_for
from channels_app.receiving import receive
from webhooks.errors import DATABASE_UNAVAILABLE


@csrf_exempt
def platform_webhook(request, platform: str, topic: str = ""):
    """`POST /webhooks/<platform>[/<topic>]` (also under /api/webhooks/, /api/v1/webhooks/, and
    a platform's own `receiver_paths`)."""
    try:
        receiver = platform_for(platform)
    except KeyError:
        return JsonResponse(
            {"detail": f"Unknown source {platform!r}.", "code": "not_found"}, status=404
        )
    except DATABASE_UNAVAILABLE:
        # A configured source is looked up in the database: the sender should retry.
        return JsonResponse(
            {"detail": "Could not look up the source; please retry.", "code": "unavailable"},
            status=503,
        )
    return receive(request, receiver)
