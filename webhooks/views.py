from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
@login_required
def live_page(request):
    """Your events as they arrive, from the live stream (served by the ASGI process)."""
    return render(request, "dashboard/live.html", {"stream_url": settings.LIVE_STREAM_URL})
