from django.views.decorators.csrf import csrf_exempt

from channels_app.platforms.registry import platform_for
from channels_app.receiving import receive


@csrf_exempt
def qualia_activity(request):
    """`POST /webhook/activity` (Qualia Marketplace)."""
    return receive(request, platform_for("qualia"))
