"""Registering our receiver with a shop, against a local fake Shopify Admin REST API over HTTP."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import resolve

from channels_app.models import ChannelAccount
from channels_app.platforms.shopify.handlers import TOPICS
from channels_app.platforms.shopify.models import WebhookRegistration
from channels_app.platforms.shopify.registration import MAX_RATE_LIMIT_RETRIES

pytestmark = pytest.mark.django_db

SHOP = "example.myshopify.com"
TOKEN = "shpat_test_token"
BASE_URL = "https://hooks.example.com"
OUR_ADDRESS = f"{BASE_URL}/webhooks/shopify"
API_VERSION = "2025-07"
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
THROTTLED = "Exceeded 2 calls per second for api client. Reduce request rates to resume."


class FakeShopifyAdmin:
    """The Admin REST API's webhook resource for one shop, with scripted failures.

    Speaks the real shapes: `{"webhooks": [...]}` pages with a `Link: <…>; rel="next"` header,
    `{"webhook": {...}}` on create and update, `{"errors": …}` on failure, 401 without the
    shop's access token, 429 with Retry-After when throttled.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.subscriptions: dict[int, dict] = {}
        self.next_id = 1_000_001
        self.requests: list[tuple[str, str, dict]] = []
        self.page_size = 250
        self.throttle_next = 0  # answer this many requests with 429 first
        self.always_throttle_topics: set[str] = set()
        self.rejected_topics: set[str] = set()
        self.list_status: int | None = None  # answer listing with this status instead
        self.retry_after = "0.2"
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake.handle(self)

            def do_POST(self):
                fake.handle(self)

            def do_PUT(self):
                fake.handle(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll interval: shutdown() waits for it, once per test.
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    @property
    def url_template(self) -> str:
        return self.origin + "/{shop}/admin/api/{version}/{resource}"

    def add(self, *, topic: str, address: str) -> int:
        """Seed a subscription, as if created earlier (by us or another tool)."""
        with self.lock:
            return self._insert(topic=topic, address=address)

    def _insert(self, *, topic: str, address: str, format: str = "json") -> int:
        webhook_id, self.next_id = self.next_id, self.next_id + 1
        self.subscriptions[webhook_id] = {
            "id": webhook_id, "address": address, "topic": topic, "format": format,
            "created_at": "2026-01-05T10:00:00-05:00", "updated_at": "2026-01-05T10:00:00-05:00",
            "fields": [], "metafield_namespaces": [], "api_version": API_VERSION,
        }  # fmt: skip
        return webhook_id

    def requests_for(self, method: str, topic: str | None = None) -> list[dict]:
        return [
            body
            for seen_method, _, body in self.requests
            if seen_method == method and (topic is None or body["webhook"]["topic"] == topic)
        ]

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = json.loads(request.rfile.read(length)) if length else {}
        with self.lock:
            self.requests.append((request.command, request.path, body))
            status, payload, headers = self.answer(request, parts, body)
        data = json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)

    def answer(self, request, parts, body) -> tuple[int, dict, dict]:
        prefix = f"/{SHOP}/admin/api/{API_VERSION}/"
        if not parts.path.startswith(prefix):
            return 404, {"errors": "Not Found"}, {}
        if request.headers.get("X-Shopify-Access-Token") != TOKEN:
            return 401, {"errors": INVALID_TOKEN}, {}
        topic = (body.get("webhook") or {}).get("topic")
        if self.throttle_next or topic in self.always_throttle_topics:
            self.throttle_next = max(self.throttle_next - 1, 0)
            return 429, {"errors": THROTTLED}, {"Retry-After": self.retry_after}
        resource = parts.path[len(prefix) :]
        if resource == "webhooks.json" and request.command == "GET":
            return self.list_page(parts)
        if resource == "webhooks.json" and request.command == "POST":
            return self.create(body["webhook"])
        if resource.startswith("webhooks/") and request.command == "PUT":
            return self.update(int(resource.removeprefix("webhooks/").removesuffix(".json")), body)
        return 404, {"errors": "Not Found"}, {}

    def list_page(self, parts) -> tuple[int, dict, dict]:
        if self.list_status:
            return self.list_status, {"errors": "Internal Server Error"}, {}
        query = parse_qs(parts.query)
        if "page_info" in query and set(query) - {"page_info", "limit"}:
            return 400, {"errors": "page_info cannot be combined with other parameters"}, {}
        limit = min(int(query.get("limit", ["50"])[0]), self.page_size)
        start = int(query.get("page_info", ["0"])[0])
        ordered = sorted(self.subscriptions.values(), key=lambda s: s["id"])
        headers = {}
        if start + limit < len(ordered):
            next_url = f"{self.origin}{parts.path}?limit={limit}&page_info={start + limit}"
            headers["Link"] = f'<{next_url}>; rel="next"'
        return 200, {"webhooks": ordered[start : start + limit]}, headers

    def create(self, webhook: dict) -> tuple[int, dict, dict]:
        if webhook["topic"] in self.rejected_topics:
            return 422, {"errors": {"topic": ["Invalid topic specified."]}}, {}
        taken = any(
            s["topic"] == webhook["topic"] and s["address"] == webhook["address"]
            for s in self.subscriptions.values()
        )
        if taken:
            return 422, {"errors": {"address": ["for this topic has already been taken"]}}, {}
        webhook_id = self._insert(
            topic=webhook["topic"], address=webhook["address"], format=webhook.get("format", "")
        )
        return 201, {"webhook": self.subscriptions[webhook_id]}, {}

    def update(self, webhook_id: int, body: dict) -> tuple[int, dict, dict]:
        if webhook_id not in self.subscriptions:
            return 404, {"errors": "Not Found"}, {}
        self.subscriptions[webhook_id]["address"] = body["webhook"]["address"]
        return 200, {"webhook": self.subscriptions[webhook_id]}, {}

    def addresses_by_topic(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for subscription in self.subscriptions.values():
            found.setdefault(subscription["topic"], []).append(subscription["address"])
        return found


@pytest.fixture
def shopify(settings):
    fake = FakeShopifyAdmin()
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True  # the fake listens on loopback
    settings.SHOPIFY_ADMIN_URL_TEMPLATE = fake.url_template
    settings.SHOPIFY_API_VERSION = API_VERSION
    settings.WEBHOOK_BASE_URL = BASE_URL + "/"  # a trailing slash must not double up
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def account(user):
    return ChannelAccount.objects.create(
        owner=user, platform="shopify", name="Example", external_id=SHOP,
        api_token=TOKEN, secret="shpss_client_secret",
    )  # fmt: skip


def register(api, account):
    return api.post(f"/api/webhooks/register/{account.pk}")


def test_the_first_call_creates_every_topic_the_receiver_handles(api, account, shopify):
    response = register(api, account)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["created"] == list(TOPICS)
    assert (body["updated"], body["kept"], body["failed"]) == ([], [], [])
    assert body["address"] == OUR_ADDRESS
    assert shopify.addresses_by_topic() == {topic: [OUR_ADDRESS] for topic in TOPICS}
    assert {s["format"] for s in shopify.subscriptions.values()} == {"json"}
    recorded = {r.topic: r.remote_id for r in WebhookRegistration.objects.filter(account=account)}
    assert recorded == {s["topic"]: str(s["id"]) for s in shopify.subscriptions.values()}


def test_a_second_call_keeps_everything_and_creates_nothing(api, account, shopify):
    register(api, account)

    body = register(api, account).json()

    assert body["kept"] == list(TOPICS)
    assert (body["created"], body["updated"], body["failed"]) == ([], [], [])
    assert len(shopify.requests_for("POST")) == len(TOPICS)
    assert len(shopify.subscriptions) == len(TOPICS)


def test_ours_at_an_old_base_url_is_moved_to_the_current_one(api, account, shopify):
    old_id = shopify.add(topic="orders/create", address="https://old.example.com/webhooks/shopify")

    body = register(api, account).json()

    assert body["updated"] == ["orders/create"]
    assert body["created"] == [topic for topic in TOPICS if topic != "orders/create"]
    assert shopify.subscriptions[old_id]["address"] == OUR_ADDRESS
    registration = WebhookRegistration.objects.get(account=account, topic="orders/create")
    assert (registration.remote_id, registration.address) == (str(old_id), OUR_ADDRESS)


def test_a_listed_webhook_id_that_is_not_an_integer_fails_its_topic_not_the_call(
    api, account, shopify
):
    old_id = shopify.add(topic="orders/create", address="https://old.example.com/webhooks/shopify")
    shopify.subscriptions[old_id]["id"] = 1.5  # int("1.5") raised a 500 before

    response = register(api, account)

    assert response.status_code == 200
    assert response.json()["failed"] == [
        {"topic": "orders/create", "error": "Shopify listed a non-numeric webhook id."}
    ]


def test_the_subscription_we_recorded_is_moved_whatever_its_address(api, account, shopify):
    old_id = shopify.add(topic="products/update", address="https://proxy.example.com/in")
    WebhookRegistration.objects.create(
        account=account, topic="products/update", address="https://proxy.example.com/in",
        remote_id=str(old_id),
    )  # fmt: skip

    body = register(api, account).json()

    assert body["updated"] == ["products/update"]
    assert shopify.subscriptions[old_id]["address"] == OUR_ADDRESS


def test_another_tools_subscription_on_a_topic_is_left_alone(api, account, shopify):
    foreign_id = shopify.add(topic="orders/create", address="https://erp.example.com/hooks")

    body = register(api, account).json()

    assert "orders/create" in body["created"]
    assert shopify.subscriptions[foreign_id]["address"] == "https://erp.example.com/hooks"
    assert sorted(shopify.addresses_by_topic()["orders/create"]) == sorted(
        ["https://erp.example.com/hooks", OUR_ADDRESS]
    )


def test_listing_follows_the_link_header_to_every_page(api, account, shopify):
    register(api, account)
    shopify.page_size = 2  # our nine subscriptions now span five pages

    body = register(api, account).json()

    assert body["kept"] == list(TOPICS)
    listed = [path for method, path, _ in shopify.requests if method == "GET"]
    assert len(listed) == 1 + 5
    assert all("page_info=" in path for path in listed[2:])


def test_a_429_is_waited_out_for_its_retry_after_and_then_succeeds(api, account, shopify):
    shopify.throttle_next = 1
    started = time.monotonic()

    response = register(api, account)

    assert response.status_code == 200
    assert response.json()["created"] == list(TOPICS)
    assert time.monotonic() - started >= float(shopify.retry_after)
    methods = [method for method, _, _ in shopify.requests]
    assert methods[:2] == ["GET", "GET"]  # the throttled list, then its retry


def test_rate_limit_retries_are_bounded_and_then_the_topic_fails(api, account, shopify):
    shopify.always_throttle_topics = {"refunds/create"}
    shopify.retry_after = "0.01"

    body = register(api, account).json()

    assert [failure["topic"] for failure in body["failed"]] == ["refunds/create"]
    assert "429" in body["failed"][0]["error"]
    assert len(shopify.requests_for("POST", "refunds/create")) == 1 + MAX_RATE_LIMIT_RETRIES
    assert body["created"] == [topic for topic in TOPICS if topic != "refunds/create"]


def test_a_422_for_one_topic_is_reported_failed_while_the_others_succeed(api, account, shopify):
    shopify.rejected_topics = {"inventory_levels/update"}

    body = register(api, account).json()

    assert body["failed"] == [
        {
            "topic": "inventory_levels/update",
            "error": "Shopify answered 422: topic: Invalid topic specified.",
        }
    ]
    assert body["created"] == [topic for topic in TOPICS if topic != "inventory_levels/update"]
    assert not WebhookRegistration.objects.filter(topic="inventory_levels/update").exists()


def test_an_invalid_access_token_fails_the_whole_call(api, account, shopify):
    account.api_token = "shpat_revoked"
    account.save()

    response = register(api, account)

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "shopify_unauthorized"
    assert INVALID_TOKEN in body["detail"]
    assert "api_token" in body["errors"]
    assert shopify.subscriptions == {}
    assert not WebhookRegistration.objects.exists()


def test_shopify_failing_to_list_answers_502(api, account, shopify):
    shopify.list_status = 500

    response = register(api, account)

    assert response.status_code == 502
    assert response.json()["code"] == "shopify_error"
    assert "500" in response.json()["detail"]


def test_a_shop_on_a_loopback_address_is_never_called_in_production(
    api, account, shopify, settings
):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False

    response = register(api, account)

    assert response.status_code == 502
    assert response.json()["code"] == "shopify_unreachable"
    assert "an address we may not call" in response.json()["detail"]
    assert shopify.requests == []
    assert not WebhookRegistration.objects.exists()


def test_another_users_account_is_not_found(other_api, account, shopify):
    response = register(other_api, account)

    assert response.status_code == 404
    assert shopify.requests == []


def test_a_non_shopify_account_is_refused(api, user, shopify):
    qualia = ChannelAccount.objects.create(
        owner=user, platform="qualia", name="Q", external_id="acme", api_token="t"
    )

    response = register(api, qualia)

    assert response.status_code == 422
    assert response.json()["code"] == "not_shopify"
    assert shopify.requests == []


def test_an_account_without_an_access_token_is_refused(api, account, shopify):
    account.api_token = ""
    account.save()

    response = register(api, account)

    assert response.status_code == 422
    assert response.json()["errors"] == {
        "api_token": ["The account has no Admin API access token (api_token)."]
    }


def test_a_shop_that_is_not_a_myshopify_domain_is_never_called(api, user, shopify):
    internal = ChannelAccount.objects.create(
        owner=user, platform="shopify", name="x", external_id="169.254.169.254", api_token=TOKEN
    )

    response = register(api, internal)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_shop_domain"
    assert shopify.requests == []


def test_without_webhook_base_url_the_call_says_what_to_configure(api, account, shopify, settings):
    settings.WEBHOOK_BASE_URL = ""

    response = register(api, account)

    assert response.status_code == 503
    assert "WEBHOOK_BASE_URL" in response.json()["detail"]
    assert shopify.requests == []


def test_an_account_without_a_webhook_secret_gets_a_warning(api, account, shopify, settings):
    settings.SHOPIFY_WEBHOOK_SECRET = ""
    account.secret = ""
    account.save()

    body = register(api, account).json()

    assert body["created"] == list(TOPICS)
    assert any("client secret" in warning for warning in body["warnings"])


def test_the_register_route_does_not_collide_with_subscriptions_or_receivers():
    from channels_app.platforms.shopify.api import ShopifyWebhooksRegisterView
    from channels_app.views import platform_webhook
    from subscriptions.api.views import SubscriptionDetailView

    assert resolve("/api/webhooks/register/7").func.view_class is ShopifyWebhooksRegisterView
    assert resolve("/api/webhooks/7").func.view_class is SubscriptionDetailView
    assert resolve("/api/webhooks/shopify").func is platform_webhook
    assert resolve("/api/webhooks/register").func is platform_webhook  # not an account id


def test_the_register_action_is_offered_on_the_account_admin(admin_client):
    page = admin_client.get("/admin/channels_app/channelaccount/")

    offered = dict(page.context["action_form"].fields["action"].choices)
    assert offered["register_shopify_webhooks"] == "Register Shopify webhooks"


def test_the_admin_action_registers_and_reports_the_outcome(admin_client, account, shopify):
    response = admin_client.post(
        "/admin/channels_app/channelaccount/",
        {"action": "register_shopify_webhooks", "_selected_action": [account.pk]},
        follow=True,
    )

    reported = [str(message) for message in response.context["messages"]]
    assert reported == [f"{SHOP}: {len(TOPICS)} created, 0 updated, 0 kept, 0 failed"]
    assert len(shopify.subscriptions) == len(TOPICS)
    assert WebhookRegistration.objects.filter(account=account).count() == len(TOPICS)


def test_the_admin_action_reports_a_refused_account_as_an_error(admin_client, user, shopify):
    qualia = ChannelAccount.objects.create(
        owner=user, platform="qualia", name="Q", external_id="acme"
    )

    response = admin_client.post(
        "/admin/channels_app/channelaccount/",
        {"action": "register_shopify_webhooks", "_selected_action": [qualia.pk]},
        follow=True,
    )

    [message] = response.context["messages"]
    assert message.level_tag == "error"
    assert "Only Shopify accounts" in str(message)


def test_registrations_are_listed_read_only_in_the_admin(admin_client, api, account, shopify):
    register(api, account)

    page = admin_client.get("/admin/channels_app/webhookregistration/")

    assert page.status_code == 200
    assert b"orders/create" in page.content
    assert admin_client.get("/admin/channels_app/webhookregistration/add/").status_code == 403
