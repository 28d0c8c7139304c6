"""Amazon SNS verification, with messages signed exactly as SNS signs them: a known answer
from a real message, then every way a message can fail to verify, and shapes that are 422."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509

from channels_app.models import ChannelAccount, InboundEvent
from channels_app.platforms.amazon.tests.case import (
    TOPIC,
    amazon,
    aws_string_to_sign,
    notification,
    post,
    sns_message,
)
from channels_app.platforms.amazon.verify import (
    certificate_check,
    signature_verify,
    sns_url_allowed,
    string_to_sign,
)
from channels_app.platforms.base import Unauthorized
from config import settings as project_settings

pytestmark = pytest.mark.django_db


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
