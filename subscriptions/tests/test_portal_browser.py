"""The portal as a subscriber walks it, in Debian's chromium: in through a portal link, an
endpoint to a real local receiver, its secret, a test, the delivery and its attempt, a retry
that a real worker sends, and a rotated secret. Screenshots land in test-results/."""

import re

import pytest
import requests
from playwright.sync_api import expect

from config.tests import test_browser
from conftest import wait_until
from subscriptions.models import Subscription
from webhooks.services import api_token_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The browser suite's chromium page and ASGI server, shared rather than copied.
app_env, app_server, page = test_browser.app_env, test_browser.app_server, test_browser.page
SCREENSHOTS = test_browser.SCREENSHOTS


def portal_link(base_url: str, user) -> str:
    _, token = api_token_create(user=user, name="platform")
    response = requests.post(
        f"{base_url}/api/portal-links", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert response.status_code == 201, response.text
    return response.json()["url"]


def test_a_subscriber_walks_the_portal_from_a_link_to_a_rotated_secret(
    app_server, page, user, receiver, celery_worker
):
    _, base_url = app_server
    link = portal_link(base_url, user)

    page.goto(link)
    page.get_by_role("button", name="Open the portal").click()
    expect(page).to_have_url(f"{base_url}/portal/")
    expect(page.locator("h1")).to_have_text("Endpoints")

    page.get_by_role("link", name="New endpoint").click()
    page.fill("#id_url", receiver.url)
    page.fill("#id_description", "Order sync")
    page.check("input[name=event_types][value='task.created']")
    page.fill("#id_filter", '{"data.title": "Write report"}')
    page.click("#filter-check")
    expect(page.locator("#filter-result")).to_have_text("task.created ✓ matches")
    page.screenshot(path=SCREENSHOTS / "portal-new-endpoint.png", full_page=True)
    page.get_by_role("button", name="Create endpoint").click()

    expect(page.locator("h1")).to_have_text("Endpoint created")
    secret = page.input_value("#secret")
    endpoint = Subscription.objects.get(owner=user)
    assert secret == endpoint.secret
    assert secret.startswith("whsec_")
    page.click("#copy-secret")
    expect(page.locator("#copy-secret")).to_have_text("Copied")
    page.screenshot(path=SCREENSHOTS / "portal-secret.png")
    page.get_by_role("link", name="Done").click()

    page.click("#send-test")
    expect(page.locator(".messages")).to_contain_text("Test delivered: HTTP 200")
    expect(page.locator("#attempt-1")).to_contain_text("HTTP 200")
    assert len(receiver.requests) == 1
    page.screenshot(path=SCREENSHOTS / "portal-delivery.png", full_page=True)

    page.get_by_role("link", name="Deliveries").click()
    row = page.locator("tr[data-delivery-id]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("webhook.test")
    row.get_by_role("link").click()

    page.click("#retry")
    expect(page.locator(".messages")).to_contain_text("is due again now")
    wait_until(lambda: len(receiver.requests) == 2)
    page.reload()
    expect(page.locator("#attempt-2")).to_contain_text("HTTP 200")
    expect(page.locator("#delivery-status")).to_have_text("succeeded")

    page.get_by_role("link", name=receiver.url).first.click()
    page.click("#rotate-secret")
    expect(page.locator("h1")).to_have_text("Secret rotated")
    rotated = page.input_value("#secret")
    assert rotated != secret
    assert re.fullmatch(r"whsec_\S+", rotated)
    endpoint.refresh_from_db()
    assert (endpoint.secret, endpoint.previous_secret) == (rotated, secret)

    page.get_by_role("link", name="Endpoints").click()
    expect(page.locator(f'tr[data-endpoint-id="{endpoint.pk}"]')).to_contain_text("100 %")
    page.screenshot(path=SCREENSHOTS / "portal-endpoints.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base_url}/portal/endpoints/{endpoint.pk}")
    page.screenshot(path=SCREENSHOTS / "portal-endpoint-phone.png", full_page=True)


def test_a_portal_link_opened_twice_shows_why_the_second_time(app_server, page, user):
    _, base_url = app_server
    link = portal_link(base_url, user)
    page.goto(link)
    page.get_by_role("button", name="Open the portal").click()
    page.context.clear_cookies()

    page.goto(link)

    expect(page.locator("#link-error")).to_have_text(
        "This link was already used. Ask for a new one."
    )
    page.goto(f"{base_url}/portal/")
    expect(page).to_have_url(re.compile(r"/portal/login\?next="))
