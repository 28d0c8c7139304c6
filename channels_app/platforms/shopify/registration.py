"""Register our Shopify receiver with a shop through the Admin REST API's `webhooks.json`.

For every topic our receiver handles (`handlers.TOPICS`) the shop must hold one subscription
posting JSON to `WEBHOOK_BASE_URL` + `/webhooks/shopify`. Registration is idempotent: the shop's
subscriptions are listed first (every page of the `Link` header), a missing topic is created,
one of *ours* at a stale address is moved (PUT), a right one is kept. Each topic succeeds or
fails on its own; a rejected access token (401) or a list that cannot be read fails the call.

"Ours" means the subscription id we recorded in WebhookRegistration, or an address whose path
is our receiver's (the base URL changed). Any other subscription on the topic is left alone:
a custom app's token may be shared with other tools whose subscriptions we must not hijack.
"""

import logging
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests_hardened.ip_filter import InvalidIPAddress

from channels_app.models import ChannelAccount
from channels_app.platforms.shopify import handlers
from channels_app.platforms.shopify.models import WebhookRegistration
from channels_app.platforms.shopify.platform import PLATFORM
from webhooks.http import client as http
from webhooks.untrusted import MalformedInput, ascii_int, json_parse

logger = logging.getLogger(__name__)

# The canonical inbound mount in config/urls.py: `webhooks/<slug:platform>`.
RECEIVER_PATH = f"/webhooks/{PLATFORM}"
# Only a real shop domain is called with the account's token: an arbitrary `external_id`
# would otherwise point our server (and the token) at any host, internal ones included.
SHOP_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]*\.myshopify\.com")
TIMEOUT_SECONDS = (5, 10)  # connect, read
PAGE_LIMIT = 250  # Shopify's maximum page size
MAX_PAGES = 20  # 5,000 subscriptions: far beyond any shop, and a guard against a Link loop
# Shopify's REST bucket leaks 2 requests/s and answers 429 with Retry-After when it is full.
# The API view runs inside a web worker with a 30 s timeout, hence the bounds on waiting.
MAX_RATE_LIMIT_RETRIES = 3
MAX_RETRY_AFTER_SECONDS = 5.0
RATE_LIMIT_WAIT_BUDGET_SECONDS = 15.0
DEFAULT_RETRY_AFTER_SECONDS = 1.0
# A page of 250 subscriptions is ~150 kB; a larger answer is not one we asked for.
MAX_ANSWER_BYTES = 1024 * 1024


class Outcome:
    CREATED = "created"
    UPDATED = "updated"
    KEPT = "kept"
    FAILED = "failed"


class RegistrationError(Exception):
    """The whole registration could not run; `code` says why, `field` names what to fix."""

    def __init__(self, message: str, *, code: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


@dataclass(frozen=True)
class TopicResult:
    topic: str
    outcome: str
    remote_id: str = ""
    error: str = ""


@dataclass
class RegistrationResult:
    """What registering did for one account, topic by topic."""

    shop: str
    address: str
    api_version: str
    topics: list[TopicResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def topics_with(self, outcome: str) -> list[str]:
        return [result.topic for result in self.topics if result.outcome == outcome]

    @property
    def failed(self) -> list[TopicResult]:
        return [result for result in self.topics if result.outcome == Outcome.FAILED]

    def summary(self) -> str:
        counts = ", ".join(
            f"{len(self.topics_with(outcome))} {outcome}"
            for outcome in (Outcome.CREATED, Outcome.UPDATED, Outcome.KEPT, Outcome.FAILED)
        )
        return f"{self.shop}: {counts}"

    def as_dict(self) -> dict:
        return {
            "shop": self.shop,
            "address": self.address,
            "api_version": self.api_version,
            "created": self.topics_with(Outcome.CREATED),
            "updated": self.topics_with(Outcome.UPDATED),
            "kept": self.topics_with(Outcome.KEPT),
            "failed": [{"topic": r.topic, "error": r.error} for r in self.failed],
            "topics": [
                {"topic": r.topic, "outcome": r.outcome, "remote_id": r.remote_id, "error": r.error}
                for r in self.topics
            ],
            "warnings": self.warnings,
        }


def receiver_address() -> str:
    """The callback URL Shopify should post to; empty when WEBHOOK_BASE_URL is not set."""
    base = settings.WEBHOOK_BASE_URL.strip().rstrip("/")
    return f"{base}{RECEIVER_PATH}" if base else ""


def _error_message(response: requests.Response) -> str:
    """Shopify's `errors` member as one line: a string, or {field: [messages]}."""
    try:
        errors = json_parse(response.content).get("errors")
    except (ValueError, AttributeError):
        errors = None
    if isinstance(errors, dict):
        text = "; ".join(
            f"{name}: {', '.join(map(str, messages)) if isinstance(messages, list) else messages}"
            for name, messages in errors.items()
        )
    elif isinstance(errors, list):
        text = "; ".join(map(str, errors))
    else:
        text = str(errors or "")
    text = text or response.text[:200].strip() or response.reason or ""
    return f"Shopify answered {response.status_code}: {text}"[:500]


def _unreachable(exc: requests.RequestException) -> str:
    if isinstance(exc, InvalidIPAddress):
        return "Shopify unreachable: the shop resolved to an address we may not call."
    return f"Shopify unreachable: {type(exc).__name__}"


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


class _AdminClient:
    """The shop's Admin REST API, through the shared hardened session (which sets User-Agent).

    The token goes in each request's headers, never in the shared session's.
    """

    def __init__(self, *, shop: str, token: str):
        self.shop = shop
        self.headers = {"X-Shopify-Access-Token": token, "Accept": "application/json"}
        self.rate_limit_waited = 0.0

    def url(self, resource: str) -> str:
        return settings.SHOPIFY_ADMIN_URL_TEMPLATE.format(
            shop=self.shop, version=settings.SHOPIFY_API_VERSION, resource=resource
        )

    def _retry_after(self, response: requests.Response) -> float | None:
        """Seconds to wait before retrying a 429, or None when the wait budget is spent."""
        try:
            wait = float(response.headers.get("Retry-After", DEFAULT_RETRY_AFTER_SECONDS))
        except ValueError:
            wait = DEFAULT_RETRY_AFTER_SECONDS
        wait = min(max(wait, 0.0), MAX_RETRY_AFTER_SECONDS)
        if self.rate_limit_waited + wait > RATE_LIMIT_WAIT_BUDGET_SECONDS:
            return None
        return wait

    def _send(self, method: str, url: str, **kwargs) -> requests.Response:
        """One request, its body read (at most MAX_ANSWER_BYTES, within the read timeout)."""
        deadline = time.perf_counter() + TIMEOUT_SECONDS[1]
        with http.session().request(
            method,
            url,
            headers=self.headers,
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
            stream=True,
            **kwargs,
        ) as response:
            body = http.read_capped(response, limit=MAX_ANSWER_BYTES + 1, deadline=deadline)
        if len(body) > MAX_ANSWER_BYTES:
            raise RegistrationError(
                f"Shopify's answer was larger than {MAX_ANSWER_BYTES} bytes.", code="shopify_error"
            )
        # What requests keeps once it has read a body itself: json(), text and links work on it.
        response._content = body
        return response

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        """Send, waiting out 429s a bounded number of times; a 401 ends the whole call.

        Network failures, a refused address included, raise requests.RequestException for
        the caller to judge.
        """
        retries = 0
        while True:
            response = self._send(method, url, **kwargs)
            if response.status_code == 401:
                raise RegistrationError(
                    "Shopify rejected the account's Admin API access token. "
                    + _error_message(response),
                    code="shopify_unauthorized",
                    field="api_token",
                )
            if response.status_code != 429 or retries == MAX_RATE_LIMIT_RETRIES:
                return response
            wait = self._retry_after(response)
            if wait is None:
                return response
            retries += 1
            logger.info(
                "shopify.registration.rate_limited",
                extra={"shop": self.shop, "retry_after": wait, "retry": retries},
            )
            time.sleep(wait)
            self.rate_limit_waited += wait

    def webhooks(self) -> list[dict]:
        """Every webhook subscription of this app on the shop, following `Link: rel="next"`."""
        first_url = self.url("webhooks.json")
        url, params = first_url, {"limit": PAGE_LIMIT}
        subscriptions: list[dict] = []
        for _ in range(MAX_PAGES):
            response = self.request("GET", url, params=params)
            if response.status_code != 200:
                raise RegistrationError(
                    f"Could not list the shop's webhooks. {_error_message(response)}",
                    code="shopify_error",
                )
            try:
                subscriptions.extend(json_parse(response.content).get("webhooks") or [])
            except (ValueError, AttributeError) as exc:
                raise RegistrationError(
                    "Shopify's list of webhooks was not JSON.", code="shopify_error"
                ) from exc
            next_url = response.links.get("next", {}).get("url")
            if not next_url:
                return subscriptions
            if _origin(next_url) != _origin(first_url):
                # The token goes with every request: never to a host the answer names.
                raise RegistrationError(
                    "Shopify's pagination link points to another host.", code="shopify_error"
                )
            # The next link already carries page_info and limit, and allows nothing else.
            url, params = next_url, None
        raise RegistrationError(
            f"More than {MAX_PAGES} pages of webhooks; stopped listing.", code="shopify_error"
        )

    def create(self, *, topic: str, address: str) -> requests.Response:
        return self.request(
            "POST",
            self.url("webhooks.json"),
            json={"webhook": {"topic": topic, "address": address, "format": "json"}},
        )

    def update_address(self, *, remote_id: str, address: str) -> requests.Response:
        return self.request(
            "PUT",
            self.url(f"webhooks/{remote_id}.json"),
            json={"webhook": {"id": ascii_int(remote_id), "address": address}},
        )


def _is_our_receiver(address: str) -> bool:
    path = urlsplit(address or "").path.rstrip("/")
    return path == RECEIVER_PATH or path.startswith(f"{RECEIVER_PATH}/")  # also /<topic>


def _ours_at_another_address(existing: list[dict], *, recorded_id: str | None) -> dict | None:
    """The subscription on this topic we may move: the one we recorded, else our receiver's."""
    for subscription in existing:
        if recorded_id and str(subscription.get("id")) == recorded_id:
            return subscription
    return next((s for s in existing if _is_our_receiver(s.get("address", ""))), None)


def _register_topic(
    client: _AdminClient,
    *,
    topic: str,
    address: str,
    existing: list[dict],
    recorded_id: str | None,
) -> TopicResult:
    right = next((s for s in existing if s.get("address") == address), None)
    if right is not None:
        return TopicResult(topic, Outcome.KEPT, str(right["id"]))
    stale = _ours_at_another_address(existing, recorded_id=recorded_id)
    try:
        if stale is not None:
            response = client.update_address(remote_id=str(stale["id"]), address=address)
            outcome = Outcome.UPDATED
        else:
            response = client.create(topic=topic, address=address)
            outcome = Outcome.CREATED
    except requests.RequestException as exc:
        return TopicResult(topic, Outcome.FAILED, error=_unreachable(exc))
    except MalformedInput:
        return TopicResult(topic, Outcome.FAILED, error="Shopify listed a non-numeric webhook id.")
    if response.status_code not in (200, 201):
        return TopicResult(topic, Outcome.FAILED, error=_error_message(response))
    try:
        remote_id = str(json_parse(response.content)["webhook"]["id"])
    except (ValueError, KeyError, TypeError):
        return TopicResult(topic, Outcome.FAILED, error="Shopify's answer had no webhook id.")
    return TopicResult(topic, outcome, remote_id)


def _check_registrable(account: ChannelAccount, address: str) -> None:
    if account.platform != PLATFORM:
        raise RegistrationError(
            f"Only Shopify accounts can register webhooks, not {account.platform!r}.",
            code="not_shopify",
            field="platform",
        )
    if not account.api_token:
        raise RegistrationError(
            "The account has no Admin API access token (api_token).",
            code="missing_api_token",
            field="api_token",
        )
    if not SHOP_DOMAIN.fullmatch(account.external_id):
        raise RegistrationError(
            "external_id must be the shop's domain, like example.myshopify.com.",
            code="invalid_shop_domain",
            field="external_id",
        )
    if not address:
        raise RegistrationError(
            "WEBHOOK_BASE_URL is not set: there is no public address to register.",
            code="receiver_url_unset",
        )


def shopify_webhooks_register(*, account: ChannelAccount) -> RegistrationResult:
    """Make the shop post every topic our receiver handles to our receiver; idempotent.

    Lists the shop's subscriptions, creates missing topics, moves ours from a stale address,
    keeps the right ones, and records each topic's subscription id in WebhookRegistration.
    Raises RegistrationError when nothing could be done (not a Shopify account, no token,
    no WEBHOOK_BASE_URL, token rejected, list unreadable); a topic Shopify refuses is
    reported as failed in the result while the others go ahead.
    """
    address = receiver_address()
    _check_registrable(account, address)
    result = RegistrationResult(
        shop=account.external_id, address=address, api_version=settings.SHOPIFY_API_VERSION
    )
    if not account.secret and not settings.SHOPIFY_WEBHOOK_SECRET:
        result.warnings.append(
            "The account has no webhook secret: set it to the app's client secret, or the "
            "receiver refuses Shopify's deliveries (401)."
        )
    recorded = dict(
        WebhookRegistration.objects.filter(account=account).values_list("topic", "remote_id")
    )
    client = _AdminClient(shop=account.external_id, token=account.api_token)
    try:
        subscriptions = client.webhooks()
    except requests.RequestException as exc:
        raise RegistrationError(_unreachable(exc), code="shopify_unreachable") from exc
    for topic in handlers.TOPICS:
        topic_result = _register_topic(
            client,
            topic=topic,
            address=address,
            existing=[s for s in subscriptions if s.get("topic") == topic],
            recorded_id=recorded.get(topic),
        )
        result.topics.append(topic_result)
        if topic_result.outcome != Outcome.FAILED:
            WebhookRegistration.objects.update_or_create(
                account=account,
                topic=topic,
                defaults={"address": address, "remote_id": topic_result.remote_id},
            )
    logger.info(
        "shopify.registration.done",
        extra={"shop": account.external_id, "summary": result.summary()},
    )
    return result
