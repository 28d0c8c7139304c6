"""What a person sees, in a real browser (Debian's chromium driven by Playwright).

The app is served by uvicorn, as the ASGI process serves pages and streams behind one origin.
Screenshots land in test-results/.
"""

from pathlib import Path

import pytest
import requests
from django.db import connections
from playwright.sync_api import expect, sync_playwright

from channels_app.models import ChannelAccount
from channels_app.platforms.shopify.platform import shopify_hmac
from conftest import BASE_DIR, child_env, database_url_for_children, start_asgi_server
from webhooks.services import event_publish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = BASE_DIR / "test-results"
PASSWORD = "a-long-test-password"
SHOP, SHOP_SECRET = "browser.myshopify.com", "shpss_browser_secret"
SHOPIFY_FIXTURES = BASE_DIR / "channels_app" / "platforms" / "shopify" / "fixtures"


@pytest.fixture
def app_env():
    return child_env(
        DATABASE_URL=database_url_for_children(), STREAM_POLL_SECONDS="0.2", DEBUG="true"
    )


@pytest.fixture
def app_server(app_env, tmp_path):
    handle, base_url = start_asgi_server(app_env, tmp_path / "asgi.log")
    yield handle, base_url
    handle.stop()


@pytest.fixture
def page(monkeypatch):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make test does)")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"],
        )  # fmt: skip
        yield browser.new_page()
        browser.close()
        # ORM calls made while Playwright's loop ran used a connection of that context: close
        # it here, or it outlives the test and blocks dropping the test database.
        connections.close_all()


def log_in(page, base_url: str, username: str, next_path: str) -> None:
    login = "/admin/login/" if next_path.startswith("/admin/") else "/accounts/login/"
    page.goto(f"{base_url}{login}?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("[type=submit]")


def test_staff_sees_the_dashboard_with_its_chart(app_server, page, django_user_model, user):
    _, base_url = app_server
    django_user_model.objects.create_superuser("staff", "staff@example.com", PASSWORD)
    event_publish(owner=user, event_type="task.created", data={})

    log_in(page, base_url, "staff", "/admin/")

    expect(page.locator("#dashboard")).to_be_visible()
    expect(page.locator("#dashboard svg.chart")).to_be_visible()
    expect(page.locator("#dashboard .figure").first).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "admin-dashboard.png", full_page=True)


def test_an_inbound_shopify_order_appears_on_the_live_page_within_2_seconds(
    app_server, page, django_user_model, celery_worker
):
    _, base_url = app_server
    viewer = django_user_model.objects.create_user("viewer", password=PASSWORD)
    ChannelAccount.objects.create(
        owner=viewer, platform="shopify", name="Shop", external_id=SHOP, secret=SHOP_SECRET
    )
    log_in(page, base_url, "viewer", "/dashboard/live")
    expect(page.locator("#connection")).to_have_text("connected", timeout=5000)

    body = (SHOPIFY_FIXTURES / "orders_create.json").read_bytes()
    posted = requests.post(
        f"{base_url}/webhooks/shopify",
        data=body,
        headers={
            "X-Shopify-Hmac-Sha256": shopify_hmac(SHOP_SECRET, body),
            "X-Shopify-Shop-Domain": SHOP,
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Webhook-Id": "browser-1",
            "Content-Type": "application/json",
        },
        timeout=10,
    )
    assert posted.status_code == 200

    # Stored, processed by the real worker, published, streamed, rendered: within 2 s.
    row = page.locator("tr", has_text="order.created")
    expect(row).to_be_visible(timeout=2000)
    expect(row).to_contain_text("shopify")
    row.click()
    expect(page.locator("#detail-json")).to_contain_text('"name": "#1001"')
    page.screenshot(path=SCREENSHOTS / "live-page.png", full_page=True)


def test_the_connection_indicator_recovers_after_a_server_restart(
    app_server, app_env, page, django_user_model, tmp_path
):
    handle, base_url = app_server
    viewer = django_user_model.objects.create_user("viewer", password=PASSWORD)
    log_in(page, base_url, "viewer", "/dashboard/live")
    indicator = page.locator("#connection")
    expect(indicator).to_have_text("connected", timeout=5000)

    handle.stop()
    expect(indicator).to_have_text("reconnecting", timeout=5000)
    port = int(base_url.rsplit(":", 1)[1])
    restarted, _ = start_asgi_server(app_env, tmp_path / "asgi-2.log", port=port)
    try:
        expect(indicator).to_have_text("connected", timeout=15000)
        event = event_publish(owner=viewer, event_type="task.created", data={}).event
        expect(page.locator(f'tr[data-event-id="{event.public_id}"]')).to_be_visible(timeout=3000)
        page.screenshot(path=SCREENSHOTS / "live-page-reconnected.png")
    finally:
        restarted.stop()


def test_the_live_page_opens_on_recent_events_and_streams_each_new_one_once(
    app_server, page, django_user_model
):
    _, base_url = app_server
    viewer = django_user_model.objects.create_user("viewer", password=PASSWORD)
    earlier = event_publish(owner=viewer, event_type="task.created", data={"n": 1}).event
    # The first stream connection fails, so the event published next lands between the page's
    # render and the stream: the reconnect must replay it, and nothing else.
    refused = []

    def refuse_first(route):
        if refused:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/api/events/stream*", refuse_first)
    log_in(page, base_url, "viewer", "/dashboard/live")
    expect(page.locator(f'tr[data-event-id="{earlier.public_id}"]')).to_be_visible()
    expect(page.locator("#connection")).to_have_text("reconnecting", timeout=5000)
    between = event_publish(owner=viewer, event_type="task.updated", data={"n": 2}).event
    expect(page.locator("#connection")).to_have_text("connected", timeout=10000)
    expect(page.locator(f'tr[data-event-id="{between.public_id}"]')).to_be_visible(timeout=3000)
    later = event_publish(owner=viewer, event_type="task.completed", data={"n": 3}).event
    expect(page.locator(f'tr[data-event-id="{later.public_id}"]')).to_be_visible(timeout=3000)

    ids = page.locator("#events tr").evaluate_all("rows => rows.map(row => row.dataset.eventId)")
    assert ids == [later.public_id, between.public_id, earlier.public_id]
    assert f"last_event_id={earlier.public_id}" in refused[0]
