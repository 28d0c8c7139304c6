"""The portal: subscribers manage their own endpoints in the browser.

Views translate forms to subscriptions.services and render what the selectors read; every
lookup goes through the user's own rows, so another user's endpoint or delivery is a 404.
"""

import json
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from subscriptions import selectors, services
from subscriptions.models import Subscription
from subscriptions.portal import selectors as portal_selectors
from subscriptions.portal.forms import EndpointForm, WindowForm
from webhooks import catalog
from webhooks.services import PortalLinkInvalid, portal_link_check, portal_link_redeem
from webhooks.untrusted import MalformedInput, json_parse

portal_login_required = login_required(login_url="portal:login")
STATS_WINDOW = timedelta(hours=24)
RECENT_DELIVERIES = 10
FILTER_CHECK_MAX_BYTES = 16384


class PortalLoginView(LoginView):
    template_name = "portal/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return reverse("portal:endpoints")


@require_http_methods(["GET", "POST"])
@never_cache
def link_redeem(request, token: str):
    """A portal link logs its user in once. A visit (GET) only shows a button that confirms
    it (POST), since mail scanners and link previews fetch URLs and would use the link up;
    the confirmation logs in and redirects, so the token leaves the address bar. A used,
    expired or unknown link logs nobody in and says why."""
    referrer_policy = "no-referrer"  # the token must not travel in a Referer
    try:
        if request.method != "POST":
            portal_link_check(raw_token=token)
            response = render(request, "portal/link_confirm.html")
            # Under no-referrer the confirming POST would carry `Origin: null`, which CSRF
            # protection refuses; same-origin keeps the token on this site.
            referrer_policy = "same-origin"
        else:
            login(
                request,
                portal_link_redeem(raw_token=token),
                backend="django.contrib.auth.backends.ModelBackend",
            )
            response = redirect("portal:endpoints")
    except PortalLinkInvalid as invalid:
        response = render(
            request, "portal/link_invalid.html", {"reason": invalid.reason}, status=410
        )
    response["Referrer-Policy"] = referrer_policy
    return response


def _endpoint(request, pk: int) -> Subscription:
    return get_object_or_404(selectors.subscriptions_for(request.user), pk=pk)


def _delivery(request, pk: int, delivery_id: int):
    deliveries = selectors.deliveries_for(_endpoint(request, pk))
    return get_object_or_404(deliveries.prefetch_related("attempts"), pk=delivery_id)


@require_GET
@portal_login_required
def endpoint_list(request):
    health = portal_selectors.endpoints_health(selectors.subscriptions_for(request.user))
    return render(request, "portal/endpoints.html", {"endpoints": health})


def _form_context(form: EndpointForm, **extra) -> dict:
    types = {t.name: t for t in [*catalog.event_types(), *catalog.namespace_types(form.owner)]}
    chosen = form["event_types"].value() or []
    options = [
        {
            "value": value,
            "label": label,
            "checked": value in chosen,
            "example": json.dumps(types[value].example, indent=2) if value in types else "",
        }
        for value, label in form.fields["event_types"].choices
    ]
    return {"form": form, "event_type_options": options, **extra}


def _report_filter(request, subscription: Subscription) -> None:
    """Say which of its types' examples the saved filter lets through: none is likely a typo."""
    check = portal_selectors.filter_check(subscription.filter, subscription.event_types)
    if check.matches and not any(check.matches.values()):
        messages.warning(request, "The filter matches none of its event types' examples.")
    elif check.matches:
        passing = ", ".join(name for name, passed in check.matches.items() if passed)
        messages.info(request, f"The filter matches the examples of: {passing}.")


@portal_login_required
def endpoint_create(request):
    form = EndpointForm(request.POST or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        subscription = services.subscription_create(owner=request.user, **form.validated_data)
        _report_filter(request, subscription)
        return render(request, "portal/secret.html", {"endpoint": subscription, "created": True})
    return render(request, "portal/endpoint_form.html", _form_context(form))


@portal_login_required
def endpoint_edit(request, pk: int):
    subscription = _endpoint(request, pk)
    form = EndpointForm(request.POST or None, owner=request.user, instance=subscription)
    if request.method == "POST" and form.is_valid():
        services.subscription_update(subscription=subscription, **form.validated_data)
        messages.success(request, "Endpoint saved.")
        _report_filter(request, subscription)
        return redirect("portal:endpoint", pk=subscription.pk)
    return render(request, "portal/endpoint_form.html", _form_context(form, endpoint=subscription))


@require_GET
@portal_login_required
def endpoint_detail(request, pk: int):
    subscription = _endpoint(request, pk)
    return render(
        request,
        "portal/endpoint.html",
        {
            "endpoint": subscription,
            "filter_json": json.dumps(subscription.filter) if subscription.filter else "",
            "health": portal_selectors.endpoints_health(
                selectors.subscriptions_for(request.user).filter(pk=pk)
            )[0],
            "stats": selectors.delivery_stats(window=STATS_WINDOW, subscription=subscription),
            "recent": portal_selectors.delivery_page(
                subscription=subscription, size=RECENT_DELIVERIES
            ),
            "window_form": WindowForm(),
            "chart": portal_selectors.deliveries_by_hour(subscription=subscription),
            "operational_events": portal_selectors.operational_events(subscription=subscription),
        },
    )


@require_POST
@portal_login_required
def endpoint_test(request, pk: int):
    result = services.subscription_test_send(subscription=_endpoint(request, pk))
    if result.success:
        messages.success(
            request, f"Test delivered: HTTP {result.status_code} in {result.response_time_ms} ms."
        )
    else:
        messages.error(request, f"Test failed: {result.error}.")
    return redirect("portal:delivery", pk=pk, delivery_id=result.delivery.pk)


@require_POST
@portal_login_required
def endpoint_rotate(request, pk: int):
    subscription = services.subscription_rotate_secret(subscription=_endpoint(request, pk))
    return render(request, "portal/secret.html", {"endpoint": subscription, "created": False})


def _over_window(request, pk: int, service, done: str):
    subscription = _endpoint(request, pk)
    form = WindowForm(request.POST)
    if not form.is_valid():
        for problems in form.errors.values():
            messages.error(request, " ".join(problems))
        return redirect("portal:endpoint", pk=pk)
    count = service(subscription=subscription, **form.cleaned_data)
    messages.success(request, done.format(count=count))
    return redirect("portal:endpoint", pk=pk)


@require_POST
@portal_login_required
def endpoint_recover(request, pk: int):
    return _over_window(
        request, pk, services.subscription_recover, "{count} failed deliveries queued again."
    )


@require_POST
@portal_login_required
def endpoint_replay_missing(request, pk: int):
    return _over_window(
        request,
        pk,
        services.subscription_replay_missing,
        "{count} missed events queued for delivery.",
    )


@require_GET
@portal_login_required
def delivery_list(request, pk: int):
    subscription = _endpoint(request, pk)
    status = request.GET.get("status", "")
    if status not in selectors.Status.values:
        status = ""
    event_id = request.GET.get("event", "").strip()
    before = None
    if (raw_before := request.GET.get("before", "")).isdigit():
        before = selectors.deliveries_for(subscription).filter(pk=int(raw_before)).first()
    page = portal_selectors.delivery_page(
        subscription=subscription, status=status, event_id=event_id, before=before
    )
    return render(
        request,
        "portal/deliveries.html",
        {
            "endpoint": subscription,
            "page": page,
            "status": status,
            "event_id": event_id,
            "statuses": selectors.Status.choices,
        },
    )


@require_GET
@portal_login_required
def delivery_detail(request, pk: int, delivery_id: int):
    delivery = _delivery(request, pk, delivery_id)
    return render(
        request,
        "portal/delivery.html",
        {
            "endpoint": delivery.subscription,
            "delivery": delivery,
            "payload": json.dumps(delivery.event.data, indent=2),
            "attempts": sorted(delivery.attempts.all(), key=lambda attempt: attempt.number),
        },
    )


@require_POST
@portal_login_required
def delivery_retry(request, pk: int, delivery_id: int):
    delivery = services.delivery_retry(delivery=_delivery(request, pk, delivery_id))
    messages.success(request, f"Delivery #{delivery.pk} is due again now.")
    return redirect("portal:delivery", pk=pk, delivery_id=delivery.pk)


@require_POST
@portal_login_required
def filter_check(request):
    """`{filter, event_types}` → `{problem, matches}`, for the form's Check button: the text
    of the filter box as typed, and the types ticked."""
    try:
        body = json_parse(request.body, max_bytes=FILTER_CHECK_MAX_BYTES)
        spec = json_parse(body.get("filter") or "null")
        patterns = [str(pattern) for pattern in body.get("event_types") or []]
    except (MalformedInput, AttributeError, TypeError) as exc:
        return JsonResponse({"problem": f"Not JSON: {exc}", "matches": {}})
    check = portal_selectors.filter_check(spec, patterns)
    return JsonResponse({"problem": check.problem, "matches": check.matches})
