"""Amazon SP-API notifications over SNS, with messages signed exactly as SNS signs them.

The tests make their own CA and SNS signing certificate, serve the certificate (and a fake
SubscribeURL) from a real HTTP server on 127.0.0.1, which the test settings allow instead of
https://sns.<region>.amazonaws.com, and sign with SignatureVersion 1 (SHA1) and 2 (SHA256).
The string to sign is rebuilt here from AWS's documentation, independently of verify.py; the
known-answer test checks both against a real SNS message and its real certificate.
"""

import base64
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from django.core.cache import cache
from django.test import TestCase

from channels_app.commerce.models import LineItem, Order
from channels_app.models import ChannelAccount, InboundEvent
from channels_app.platforms.amazon.models import ProcessingReport, SnsSubscription
from channels_app.platforms.amazon.tests.case import amazon
from channels_app.platforms.amazon.verify import (
    certificate_check,
    signature_verify,
    sns_url_allowed,
    string_to_sign,
)
from channels_app.platforms.base import Unauthorized
from channels_app.processing import inbound_event_process
from config import settings as project_settings
from conftest import child_env, database_url_for_children, start_web_server
from subscriptions.models import Delivery
from subscriptions.services import subscription_create
from webhooks.models import Event

pytestmark = pytest.mark.django_db

TOPIC = "arn:aws:sns:us-east-1:123456789012:sp-api-notifications"
LOOPBACK_PATTERN = r"^127\.0\.0\.1$"


def notification(name: str, **changes) -> dict:
    return {**json.loads(amazon.fixture(f"{name}.json").decode()), **changes}


# --- Keys and certificates --------------------------------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject, public_key, issuer, issuer_key, *, valid_from, valid_to, ca=False):
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_to)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


class Keys:
    """A test CA, and an SNS-like signing key with a current and an expired certificate."""

    def __init__(self):
        now = datetime.now(UTC)
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ca_name = _name("Test Root CA")
        ca = _certificate(
            ca_name,
            ca_key.public_key(),
            ca_name,
            ca_key,
            valid_from=now - timedelta(days=30),
            valid_to=now + timedelta(days=365),
            ca=True,
        )
        self.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = _name("sns.amazonaws.com")
        self.certificate = _certificate(
            subject,
            self.signing_key.public_key(),
            ca.subject,
            ca_key,
            valid_from=now - timedelta(days=1),
            valid_to=now + timedelta(days=30),
        )
        self.expired_certificate = _certificate(
            subject,
            self.signing_key.public_key(),
            ca.subject,
            ca_key,
            valid_from=now - timedelta(days=60),
            valid_to=now - timedelta(days=1),
        )

    @staticmethod
    def pem(certificate: x509.Certificate) -> bytes:
        return certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys()


# --- A local stand-in for SNS's certificate host and SubscribeURL -------------------------------


class FakeSns:
    """Serves GETs from `routes` (path → (status, body)) on 127.0.0.1 and records every one."""

    def __init__(self):
        self.routes: dict[str, tuple[int, bytes]] = {}
        self.requests: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake.requests.append(self.path)
                status, body = fake.routes.get(self.path.split("?")[0], (404, b"not found"))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sns(keys):
    fake = FakeSns()
    fake.routes["/SimpleNotificationService-test.pem"] = (200, Keys.pem(keys.certificate))
    fake.routes["/SimpleNotificationService-expired.pem"] = (
        200,
        Keys.pem(keys.expired_certificate),
    )
    fake.routes["/confirm"] = (200, b"<ConfirmSubscriptionResponse/>")
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def loopback_sns(settings):
    """Let the local fake stand in for sns.<region>.amazonaws.com; start with a cold cache."""
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    settings.AMAZON_SNS_CERT_HOST_PATTERN = LOOPBACK_PATTERN
    settings.AMAZON_SNS_URL_SCHEMES = ["http"]
    cache.clear()


@pytest.fixture
def account(user):
    return ChannelAccount.objects.create(
        owner=user, platform="amazon", name="Amazon US", external_id=TOPIC
    )


# --- Signing as SNS does ----------------------------------------------------------------------


def aws_string_to_sign(message: dict) -> bytes:
    """AWS's documented string to sign, written out here independently of verify.py."""
    if message["Type"] == "Notification":
        names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join(f"{n}\n{message[n]}\n" for n in names if n in message).encode()


def sign(message: dict, key: rsa.RSAPrivateKey) -> dict:
    # SignatureVersion 1 is SHA1 by SNS's definition, not our choice.
    digest = hashes.SHA1() if message["SignatureVersion"] == "1" else hashes.SHA256()  # noqa: S303
    signature = key.sign(aws_string_to_sign(message), padding.PKCS1v15(), digest)
    return {**message, "Signature": base64.b64encode(signature).decode()}


def sns_message(
    sns: FakeSns,
    keys: Keys,
    message_type: str = "Notification",
    *,
    message: str | dict = "",
    version: str = "2",
    key=None,
    topic: str = TOPIC,
    at: datetime | None = None,
    cert_url: str | None = None,
    **fields,
) -> dict:
    """A signed SNS message as SNS posts it to an HTTP endpoint."""
    message_id = str(uuid.uuid4())
    envelope = {
        "Type": message_type,
        "MessageId": message_id,
        "TopicArn": topic,
        "Message": message if isinstance(message, str) else json.dumps(message),
        "Timestamp": (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "SignatureVersion": version,
        "SigningCertURL": cert_url or sns.url("/SimpleNotificationService-test.pem"),
        **fields,
    }
    if message_type == "Notification":
        envelope["UnsubscribeURL"] = sns.url(f"/?Action=Unsubscribe&SubscriptionArn={topic}:1")
    else:
        envelope.setdefault("Token", "2336412f37fb687f5d51e6e2425c464de12884")
        envelope.setdefault(
            "SubscribeURL",
            sns.url(
                f"/confirm?Action=ConfirmSubscription&TopicArn={topic}&Token={envelope['Token']}"
            ),
        )
    return sign(envelope, key or keys.signing_key)


def post(client, message: dict | bytes, path: str = "/webhooks/amazon"):
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    headers = {}
    if isinstance(message, dict):
        headers = {
            "HTTP_X_AMZ_SNS_MESSAGE_TYPE": str(message.get("Type")),
            "HTTP_X_AMZ_SNS_MESSAGE_ID": str(message.get("MessageId")),
            "HTTP_X_AMZ_SNS_TOPIC_ARN": str(message.get("TopicArn")),
        }
    # SNS posts JSON labelled text/plain.
    return client.post(path, body, content_type="text/plain; charset=UTF-8", **headers)


def process_all():
    """As the worker does, including what runs after commit (confirming a subscription)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        for event in InboundEvent.objects.filter(status=InboundEvent.Status.RECEIVED).order_by(
            "pk"
        ):
            inbound_event_process(event=event)


# --- Known answer: a real SNS message and its real certificate --------------------------------


def test_a_real_sns_message_verifies_with_its_real_certificate():
    # From aws/aws-sdk-java (aws-java-sdk-sns/src/test/resources): a SignatureVersion 1
    # notification SNS sent in 2015 and the certificate at its SigningCertURL.
    message = json.loads(amazon.fixture("sns_known_answer_message.json").decode())
    certificate = x509.load_pem_x509_certificate(amazon.fixture("sns_known_answer_certificate.pem"))

    assert (
        string_to_sign(message)
        == aws_string_to_sign(message)
        == (
            b"Message\nboo\nMessageId\nd39649d4-bf5b-5b80-af75-07acb3dd9b4a\nSubject\nthis is raw\n"
            b"Timestamp\n2015-09-20T01:22:14.001Z\n"
            b"TopicArn\narn:aws:sns:us-east-1:810605503585:just_testing\nType\nNotification\n"
        )
    )
    signature_verify(message, certificate)
    certificate_check(certificate, at=datetime(2015, 9, 20, 1, 22, 14, tzinfo=UTC))
    with pytest.raises(Unauthorized):
        signature_verify({**message, "Message": "boo!"}, certificate)
    with pytest.raises(Unauthorized):
        certificate_check(certificate)  # it expired in 2016


def test_a_real_but_old_sns_message_is_refused_as_stale(client, user):
    message = json.loads(amazon.fixture("sns_known_answer_message.json").decode())
    ChannelAccount.objects.create(
        owner=user, platform="amazon", name="old", external_id=message["TopicArn"]
    )
    response = post(client, message)
    assert response.status_code == 401
    assert "Timestamp" in response.json()["detail"]
    assert InboundEvent.objects.count() == 0


# --- Verification -----------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_signed_notification_is_stored_once(client, account, sns, keys, version):
    message = sns_message(sns, keys, message=notification("order_change"), version=version)

    response = post(client, message)

    assert response.status_code == 200
    assert response.json()["status"] == "received"
    event = InboundEvent.objects.get()
    assert (event.account, event.topic, event.external_id) == (
        account,
        "ORDER_CHANGE",
        message["MessageId"],
    )
    assert bytes(event.body) == json.dumps(message).encode()
    assert sns.requests == ["/SimpleNotificationService-test.pem"]


@pytest.mark.parametrize("path", ["/api/webhooks/amazon", "/api/v1/webhooks/amazon"])
def test_every_mount_receives(client, account, sns, keys, path):
    message = sns_message(sns, keys, message=notification("order_change"))
    assert post(client, message, path).status_code == 200


def test_the_certificate_is_fetched_once_and_then_cached(client, account, sns, keys):
    for _ in range(3):
        assert post(client, sns_message(sns, keys, message={})).status_code == 200
    assert sns.requests == ["/SimpleNotificationService-test.pem"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Message", '{"notificationType": "ORDER_CHANGE"}'),
        ("TopicArn", TOPIC + "-other"),
        ("MessageId", "another-id"),
        ("Timestamp", "2030-01-01T00:00:00.000Z"),
        ("Subject", "hi"),
    ],
)
def test_a_tampered_message_is_401_and_stores_nothing(client, account, sns, keys, field, value):
    ChannelAccount.objects.create(
        owner=account.owner, platform="amazon", name="other", external_id=TOPIC + "-other"
    )
    message = sns_message(sns, keys, message=notification("order_change"))

    response = post(client, {**message, field: value})

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert InboundEvent.objects.count() == 0


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_signature_by_another_key_is_401(client, account, sns, keys, version):
    message = sns_message(sns, keys, message="{}", version=version, key=keys.other_key)
    assert post(client, message).status_code == 401
    assert InboundEvent.objects.count() == 0


def test_a_signature_made_with_the_other_version_is_401(client, account, sns, keys):
    signed_as_v1 = sns_message(sns, keys, message="{}", version="1")
    assert post(client, {**signed_as_v1, "SignatureVersion": "2"}).status_code == 401


@pytest.mark.parametrize(
    "changes",
    [
        {"Signature": None},
        {"SigningCertURL": None},
        {"SignatureVersion": None},
        {"SignatureVersion": "3"},
        {"Signature": "not base64!"},
    ],
)
def test_a_missing_or_unusable_signature_is_401_and_fetches_nothing(
    client, account, sns, keys, changes
):
    message = {k: v for k, v in {**sns_message(sns, keys), **changes}.items() if v is not None}
    assert post(client, message).status_code == 401
    assert InboundEvent.objects.count() == 0
    assert sns.requests == []


@pytest.mark.parametrize(
    "cert_url",
    [
        "http://localhost:{port}/SimpleNotificationService-test.pem",  # host not allowed
        "http://127.0.0.1.evil.example:{port}/SimpleNotificationService-test.pem",
        "http://sns.us-east-1.amazonaws.com@localhost:{port}/SimpleNotificationService-test.pem",
        "ftp://127.0.0.1:{port}/SimpleNotificationService-test.pem",  # scheme not allowed
        "http://127.0.0.1:{port}/SimpleNotificationService-test.txt",  # not a .pem
    ],
)
def test_a_forbidden_certificate_url_is_401_and_never_fetched(client, account, sns, keys, cert_url):
    message = sns_message(sns, keys, cert_url=cert_url.format(port=sns.port))
    assert post(client, message).status_code == 401
    assert sns.requests == []


def test_the_production_defaults_refuse_http_certificate_urls(client, account, sns, keys, settings):
    settings.AMAZON_SNS_URL_SCHEMES = project_settings.AMAZON_SNS_URL_SCHEMES
    assert settings.AMAZON_SNS_URL_SCHEMES == ["https"]
    assert post(client, sns_message(sns, keys)).status_code == 401
    assert sns.requests == []


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-a.pem", True),
        ("https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-a.pem", True),
        ("http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-a.pem", False),
        ("https://sns.eu-west-1.amazonaws.com.evil.com/a.pem", False),
        ("https://evil.com/sns.us-east-1.amazonaws.com/a.pem", False),
        ("https://sqs.us-east-1.amazonaws.com/a.pem", False),
        ("https://user@sns.us-east-1.amazonaws.com/a.pem", False),
    ],
)
def test_the_default_address_rule_allows_amazon_sns_only(settings, url, allowed):
    settings.AMAZON_SNS_CERT_HOST_PATTERN = project_settings.AMAZON_SNS_CERT_HOST_PATTERN
    settings.AMAZON_SNS_URL_SCHEMES = project_settings.AMAZON_SNS_URL_SCHEMES
    assert sns_url_allowed(url, path_suffix=".pem") is allowed


def test_a_certificate_on_a_loopback_address_is_never_fetched_in_production(
    client, account, sns, keys, settings
):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False

    response = post(client, sns_message(sns, keys, message=notification("order_change")))

    assert response.status_code == 401
    assert "an address we may not call" in response.json()["detail"]
    assert sns.requests == []
    assert InboundEvent.objects.count() == 0


def test_a_stale_timestamp_is_401_and_fetches_nothing(client, account, sns, keys, settings):
    old = datetime.now(UTC) - timedelta(seconds=settings.AMAZON_SNS_MAX_AGE_SECONDS + 60)
    assert post(client, sns_message(sns, keys, at=old)).status_code == 401
    assert sns.requests == []


def test_a_timestamp_far_in_the_future_is_401(client, account, sns, keys):
    later = datetime.now(UTC) + timedelta(hours=1)
    assert post(client, sns_message(sns, keys, at=later)).status_code == 401


def test_an_expired_signing_certificate_is_401(client, account, sns, keys):
    message = sns_message(sns, keys, cert_url=sns.url("/SimpleNotificationService-expired.pem"))
    assert post(client, message).status_code == 401
    assert InboundEvent.objects.count() == 0


def test_a_certificate_url_that_does_not_serve_a_certificate_is_401(client, account, sns, keys):
    sns.routes["/SimpleNotificationService-junk.pem"] = (200, b"<html>hello</html>")
    message = sns_message(sns, keys, cert_url=sns.url("/SimpleNotificationService-junk.pem"))
    assert post(client, message).status_code == 401


def test_a_topic_configured_on_no_account_is_401_and_fetches_nothing(client, account, sns, keys):
    message = sns_message(sns, keys, topic="arn:aws:sns:us-east-1:999999999999:someone-else")
    assert post(client, message).status_code == 401
    assert sns.requests == []


def test_an_inactive_account_is_401(client, account, sns, keys):
    ChannelAccount.objects.filter(pk=account.pk).update(is_active=False)
    assert post(client, sns_message(sns, keys)).status_code == 401


# --- Shape ------------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["Type", "MessageId", "TopicArn", "Timestamp", "Message"])
def test_a_message_missing_a_field_is_422(client, account, sns, keys, missing):
    message = sns_message(sns, keys)
    del message[missing]

    response = post(client, message)

    assert response.status_code == 422
    assert {
        "loc": ["body", missing],
        "msg": "field required",
        "type": "value_error.missing",
    } in response.json()["detail"]
    assert sns.requests == []


def test_a_timestamp_shaped_like_a_time_but_not_one_is_422_not_500(client, account, sns, keys):
    message = {**sns_message(sns, keys), "Timestamp": "2024-13-45T00:00:00Z"}

    response = post(client, message)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "Timestamp"]
    assert sns.requests == []


def test_an_unknown_sns_type_is_422_and_not_json_is_400(client, account, sns, keys):
    unknown = post(client, sns_message(sns, keys, "Gossip"))
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["body", "Type"]
    assert post(client, b"Type=Notification").status_code == 400
    assert post(client, b"[1, 2]").status_code == 422
    assert InboundEvent.objects.count() == 0


def test_a_verified_order_change_without_an_order_id_is_422(client, account, sns, keys):
    broken = notification("order_change")
    del broken["Payload"]["OrderChangeNotification"]["AmazonOrderId"]
    response = post(client, sns_message(sns, keys, message=broken))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "amazonOrderId"


# --- Notifications ----------------------------------------------------------------------------


def test_a_repeated_message_id_is_a_duplicate_and_stored_once(client, account, sns, keys):
    message = sns_message(sns, keys, message=notification("order_change"))

    first, again = post(client, message), post(client, message)

    assert first.json()["status"] == "received"
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert again.json()["id"] == first.json()["id"]
    assert InboundEvent.objects.count() == 1


def test_an_unhandled_notification_type_is_stored_and_ignored(client, account, sns, keys):
    other = {
        "notificationVersion": "1.0",
        "notificationType": "ANY_OFFER_CHANGED",
        "payloadVersion": "1.0",
        "eventTime": "2025-01-01T00:00:00Z",
        "payload": {},
    }
    post(client, sns_message(sns, keys, message=other))
    post(client, sns_message(sns, keys, message="Hello from the SNS console"))
    process_all()

    assert list(InboundEvent.objects.order_by("pk").values_list("topic", "status")) == [
        ("ANY_OFFER_CHANGED", InboundEvent.Status.IGNORED),
        ("Notification", InboundEvent.Status.IGNORED),
    ]
    assert Event.objects.count() == 0


def test_an_order_change_projects_the_order_and_publishes(client, account, sns, keys, user):
    subscription_create(owner=user, url="https://example.com/h", event_types=["order.*"])
    post(client, sns_message(sns, keys, message=notification("order_change")))
    process_all()

    order = Order.objects.get()
    assert (order.external_id, order.financial_status, order.fulfillment_status) == (
        "903-8868176-2219830",
        "paid",
        "",
    )
    assert order.remote_updated_at == datetime(2025, 1, 11, 0, 9, 53, 109000, tzinfo=UTC)
    item = LineItem.objects.get()
    assert (item.external_id, item.sku, item.quantity) == ("OIID34853450", "SellerSKUID1", 10)
    event = Event.objects.get()
    assert (event.event_type, event.source) == ("order.created", "amazon")
    assert event.data["order_status"] == "Unshipped"
    assert event.data["shop"] == "A3TH9S8BH6GOGM"
    assert Delivery.objects.filter(event=event).count() == 1
    assert InboundEvent.objects.get().status == InboundEvent.Status.PROCESSED


def _order_change(status: str, event_time: str) -> dict:
    change = notification("order_change", EventTime=event_time)
    change["Payload"]["OrderChangeNotification"]["Summary"]["OrderStatus"] = status
    return change


def test_an_older_order_change_never_overwrites_a_newer_one(client, account, sns, keys):
    newer = _order_change("Shipped", "2025-01-12T10:00:00.000Z")
    older = _order_change("Unshipped", "2025-01-11T10:00:00.000Z")
    post(client, sns_message(sns, keys, message=newer))
    process_all()
    post(client, sns_message(sns, keys, message=older))
    process_all()

    order = Order.objects.get()
    assert (order.financial_status, order.fulfillment_status) == ("paid", "fulfilled")
    assert order.remote_updated_at == datetime(2025, 1, 12, 10, tzinfo=UTC)
    assert list(Event.objects.values_list("event_type", flat=True)) == ["order.created"]
    assert InboundEvent.objects.filter(status=InboundEvent.Status.PROCESSED).count() == 2


def test_a_newer_order_change_updates_and_a_cancellation_publishes_cancelled(
    client, account, sns, keys
):
    for status, at in [
        ("Pending", "2025-01-11T10:00:00Z"),
        ("Unshipped", "2025-01-11T11:00:00Z"),
        ("Canceled", "2025-01-11T12:00:00Z"),
    ]:
        post(client, sns_message(sns, keys, message=_order_change(status, at)))
        process_all()

    order = Order.objects.get()
    assert order.cancelled_at == datetime(2025, 1, 11, 12, tzinfo=UTC)
    assert list(Event.objects.order_by("pk").values_list("event_type", flat=True)) == [
        "order.created",
        "order.updated",
        "order.cancelled",
    ]


@pytest.mark.parametrize(
    ("name", "kind", "external_id", "document_id", "event_type", "data_key"),
    [
        (
            "feed_processing_finished",
            "feed",
            "53347018456",
            "amzn1.tortuga.3.edbcd0d8-3434-8222-1234-52ad8ade1208.URUTI57URI9BMZ",
            "amazon.feed.finished",
            "result_feed_document_id",
        ),
        (
            "report_processing_finished",
            "report",
            "54517018502",
            "amzn1.tortuga.3.edbcd0d8-3434-8222-1234-52ad8ade1208.REP4567URI9BMZ",
            "amazon.report.finished",
            "report_document_id",
        ),
    ],
)
def test_finished_feeds_and_reports_are_recorded_and_reach_subscribers(
    client, account, sns, keys, user, name, kind, external_id, document_id, event_type, data_key
):
    subscription = subscription_create(
        owner=user, url="https://example.com/h", event_types=["amazon.*"]
    )
    post(client, sns_message(sns, keys, message=notification(name)))
    process_all()
    process_all()  # a second pass changes nothing

    report = ProcessingReport.objects.get()
    assert (report.kind, report.external_id, report.processing_status, report.document_id) == (
        kind,
        external_id,
        "DONE",
        document_id,
    )
    event = Event.objects.get()
    assert (event.event_type, event.source) == (event_type, "amazon")
    assert event.data[data_key] == document_id
    assert Delivery.objects.get(event=event).subscription == subscription


# --- Subscription confirmation ----------------------------------------------------------------


def test_a_subscription_confirmation_is_confirmed_in_the_worker_after_verification(
    client, account, sns, keys
):
    message = sns_message(
        sns,
        keys,
        "SubscriptionConfirmation",
        message=f"You have chosen to subscribe to the topic {TOPIC}.",
    )

    response = post(client, message)

    assert response.status_code == 200
    # Stored and acknowledged first: only the certificate was fetched so far.
    assert sns.requests == ["/SimpleNotificationService-test.pem"]

    process_all()

    assert sns.requests[1:] == [message["SubscribeURL"].split(str(sns.port), 1)[1]]
    subscription = SnsSubscription.objects.get()
    assert (subscription.account, subscription.topic_arn, subscription.status) == (
        account,
        TOPIC,
        SnsSubscription.Status.CONFIRMED,
    )
    assert subscription.subscribe_url == message["SubscribeURL"]
    event = InboundEvent.objects.get()
    assert (event.topic, event.status) == (
        "SubscriptionConfirmation",
        InboundEvent.Status.PROCESSED,
    )

    inbound_event_process(event=event)  # reprocessing a confirmed one does not confirm again
    assert len(sns.requests) == 2
    assert SnsSubscription.objects.count() == 1


def test_an_unverified_confirmation_never_reaches_the_subscribe_url(client, account, sns, keys):
    forged = sns_message(sns, keys, "SubscriptionConfirmation", key=keys.other_key)
    tampered = {
        **sns_message(sns, keys, "SubscriptionConfirmation"),
        "SubscribeURL": sns.url("/confirm?Token=attacker"),
    }

    assert post(client, forged).status_code == 401
    assert post(client, tampered).status_code == 401
    process_all()

    assert [path for path in sns.requests if path.startswith("/confirm")] == []
    assert SnsSubscription.objects.count() == 0


def test_a_confirmation_for_an_unconfigured_topic_is_refused(client, account, sns, keys):
    message = sns_message(
        sns, keys, "SubscriptionConfirmation", topic="arn:aws:sns:us-east-1:999999999999:not-ours"
    )
    response = post(client, message)
    process_all()

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert sns.requests == []
    assert SnsSubscription.objects.count() == 0


def test_a_failed_confirmation_is_recorded_with_its_error(client, account, sns, keys):
    sns.routes["/confirm"] = (403, b"<Error><Code>AuthorizationError</Code></Error>")
    post(client, sns_message(sns, keys, "SubscriptionConfirmation"))
    process_all()

    subscription = SnsSubscription.objects.get()
    assert subscription.status == SnsSubscription.Status.FAILED
    assert "403" in subscription.error


def test_a_subscribe_url_on_a_loopback_address_is_never_called_in_production(
    client, account, sns, keys, settings
):
    post(client, sns_message(sns, keys, "SubscriptionConfirmation"))
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False

    process_all()

    assert sns.requests == ["/SimpleNotificationService-test.pem"]
    subscription = SnsSubscription.objects.get()
    assert subscription.status == SnsSubscription.Status.FAILED
    assert "an address we may not call" in subscription.error


def test_an_unsubscribe_confirmation_is_stored_and_ignored(client, account, sns, keys):
    assert post(client, sns_message(sns, keys, "UnsubscribeConfirmation")).status_code == 200
    process_all()

    assert InboundEvent.objects.get().status == InboundEvent.Status.IGNORED
    assert [path for path in sns.requests if path.startswith("/confirm")] == []
    assert SnsSubscription.objects.count() == 0


# --- Admin and the real server ----------------------------------------------------------------


def test_the_amazon_admin_pages_render_read_only(admin_client, account):
    ProcessingReport.objects.create(account=account, kind="feed", external_id="1", type="T")
    SnsSubscription.objects.create(
        account=account,
        topic_arn=TOPIC,
        subscribe_url="https://sns.us-east-1.amazonaws.com/c",
        status="confirmed",
    )
    for model in ["processingreport", "snssubscription"]:
        assert admin_client.get(f"/admin/channels_app/{model}/").status_code == 200, model
        assert admin_client.get(f"/admin/channels_app/{model}/add/").status_code == 403, model


@pytest.fixture
def live_app_with_loopback_sns(transactional_db, tmp_path):
    """The app under gunicorn (as `live_app`), allowed to fetch from the local fake SNS."""
    handle, base_url = start_web_server(
        child_env(
            DATABASE_URL=database_url_for_children(),
            WEBHOOKS_ALLOW_PRIVATE_URLS="true",
            AMAZON_SNS_CERT_HOST_PATTERN=LOOPBACK_PATTERN,
            AMAZON_SNS_URL_SCHEMES="http",
        ),
        tmp_path / "web.log",
    )
    yield base_url
    handle.stop()


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_a_signed_notification_through_the_real_server_is_stored_once(
    live_app_with_loopback_sns, account, sns, keys
):
    message = sns_message(sns, keys, message=notification("feed_processing_finished"))
    url = f"{live_app_with_loopback_sns}/webhooks/amazon"
    headers = {
        "Content-Type": "text/plain; charset=UTF-8",
        "x-amz-sns-message-type": "Notification",
        "x-amz-sns-topic-arn": TOPIC,
    }

    first = requests.post(url, data=json.dumps(message), headers=headers, timeout=10)
    again = requests.post(url, data=json.dumps(message), headers=headers, timeout=10)
    forged = requests.post(
        url, data=json.dumps({**message, "Message": "{}"}), headers=headers, timeout=10
    )

    assert (first.status_code, first.json()["status"]) == (200, "received")
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    assert forged.status_code == 401
    event = InboundEvent.objects.get()
    assert (event.topic, event.external_id) == ("FEED_PROCESSING_FINISHED", message["MessageId"])
    assert event.headers["X-Amz-Sns-Topic-Arn"] == TOPIC
