from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from webhooks.selectors import events_recent
from webhooks.stream import event_fields

# Events the live page shows when it opens, before the stream adds new ones.
LIVE_PAGE_HISTORY = 50


@require_GET
@login_required
def live_page(request):
    """Your most recent events, then new ones as they arrive from the live stream (served by
    the ASGI process).

    The stream resumes after the newest event rendered here (its Last-Event-ID), so one created
    between this render and the stream's connection is replayed, not lost, and none is shown
    twice.
    """
    recent = events_recent(owner=request.user, limit=LIVE_PAGE_HISTORY)
    newest = max(recent, key=lambda event: event.pk, default=None)
    return render(
        request,
        "dashboard/live.html",
        {
            "stream_url": settings.LIVE_STREAM_URL,
            "recent_events": [event_fields(event) for event in recent],
            "resume_after": newest.public_id if newest else "",
        },
    )
