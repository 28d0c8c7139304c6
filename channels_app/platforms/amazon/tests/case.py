"""Amazon SNS as SNS posts: messages signed inside the body, with a test CA and signing
certificate served from a local stand-in for SNS's certificate host.

The string to sign is rebuilt here from AWS's documentation, independently of verify.py; the
known-answer test checks both against a real SNS message and its real certificate.
"""

import base64
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from django.test import TestCase

from channels_app.models import InboundEvent
from channels_app.processing import inbound_event_process
from channels_app.testing import WebhookCase


class AmazonWebhook(WebhookCase):
    platform = "amazon"


amazon = AmazonWebhook()


TOPIC = "arn:aws:sns:us-east-1:123456789012:sp-api-notifications"


LOOPBACK_PATTERN = r"^127\.0\.0\.1$"


def notification(name: str, **changes) -> dict:
    return {**json.loads(amazon.fixture(f"{name}.json").decode()), **changes}


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
