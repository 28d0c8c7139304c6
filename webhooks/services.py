import hashlib
import logging
import secrets
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from webhooks.encryption import EncryptedTextField
from webhooks.models import ApiToken

logger = logging.getLogger(__name__)

API_TOKEN_PREFIX = "whk_"  # noqa: S105  (a label, not a secret)
_LAST_USED_RESOLUTION = timedelta(minutes=1)
_REENCRYPT_BATCH = 500
_HEARTBEAT_CACHE_KEY = "worker:heartbeat"


def _token_hash(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def api_token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """Create a token for `user`; returns the row and the raw token, which is never stored."""
    raw_token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw_token[:12], key_hash=_token_hash(raw_token)
    )
    logger.info("api_token.created", extra={"token_id": token.pk, "user_id": user.pk})
    return token, raw_token


def api_token_authenticate(*, raw_token: str) -> ApiToken | None:
    """The active token for `raw_token`, or None. Looked up by hash, so no secret is compared."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_token_hash(raw_token), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # One write a minute at most, not one per request.
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def staff_user_ensure() -> tuple[object, str | None]:
    """Make sure a superuser exists; returns it and the generated password when one was made.

    The password comes from STAFF_PASSWORD when set; otherwise one is generated and returned
    so the caller can print it once.
    """
    user_model = get_user_model()
    existing = user_model.objects.filter(is_superuser=True).order_by("pk").first()
    if existing is not None:
        return existing, None
    password = settings.STAFF_PASSWORD or secrets.token_urlsafe(12)
    user = user_model.objects.create_superuser(
        username=settings.STAFF_USERNAME, email=settings.STAFF_EMAIL, password=password
    )
    return user, (None if settings.STAFF_PASSWORD else password)


def encrypted_fields_reencrypt() -> dict[str, int]:
    """Rewrite every EncryptedTextField column with the first key in FIELD_ENCRYPTION_KEYS.

    Rows are read (decrypted with whichever key fits) and written back in small batches, each
    in its own transaction, so no long lock is held.
    """
    counts: dict[str, int] = {}
    for model in apps.get_models():
        fields = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if not fields:
            continue
        rewritten = 0
        last_pk = None
        while True:
            batch = model._base_manager.order_by("pk")
            if last_pk is not None:
                batch = batch.filter(pk__gt=last_pk)
            rows = list(batch.values("pk", *fields)[:_REENCRYPT_BATCH])
            if not rows:
                break
            with transaction.atomic():
                for row in rows:
                    pk = row.pop("pk")
                    model._base_manager.filter(pk=pk).update(**row)
            rewritten += len(rows)
            last_pk = pk
        counts[model._meta.label] = rewritten
    return counts


def worker_heartbeat_record() -> None:
    now = timezone.now()
    cache.set(_HEARTBEAT_CACHE_KEY, now.timestamp(), timeout=None)
    logger.info("worker.heartbeat", extra={"at": now.isoformat()})


def worker_heartbeat_age_seconds() -> float | None:
    """Seconds since a worker last ran the heartbeat task, or None if none ever did."""
    last_seen = cache.get(_HEARTBEAT_CACHE_KEY)
    return None if last_seen is None else round(timezone.now().timestamp() - last_seen, 1)
