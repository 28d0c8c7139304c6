import contextlib
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from webhooks import catalog
from webhooks.encryption import EncryptedTextField
from webhooks.ids import new_id
from webhooks.models import ApiToken, Event, PortalLink
from webhooks.publishing import NEW_EVENT, PublishHook
from webhooks.tracing import tracing_traceparent

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


class UnknownEventType(ValueError):
    pass


@dataclass(frozen=True)
class PublishResult:
    event: Event
    deliveries: int
    created: bool


def event_publish(
    *,
    owner,
    event_type: str,
    data: dict,
    idempotency_key: str | None = None,
    source: str = "app",
    channels: list[str] | None = None,
) -> PublishResult:
    """Record an event and, in the same transaction, what each publish hook writes for it:
    one delivery per matching subscription, and the bus's outbox row (webhooks.publishing).

    On PostgreSQL that is one INSERT statement when every hook can say what it writes as SQL.
    Publishing an idempotency key the owner used before returns the first event and creates
    nothing.
    """
    if not catalog.is_known(event_type, owner):
        raise UnknownEventType(event_type)
    if idempotency_key is not None:
        existing = Event.objects.filter(owner=owner, idempotency_key=idempotency_key).first()
        if existing is not None:
            return _published_before(existing)
    event = Event(
        public_id=new_id("evt"),
        owner=owner,
        event_type=event_type,
        source=source,
        data=data,
        channels=channels or [],
        idempotency_key=idempotency_key,
        created_at=timezone.now(),
        traceparent=tracing_traceparent(),
    )
    try:
        counts = _event_insert(event, [import_string(p)() for p in settings.EVENT_PUBLISH_HOOKS])
    except IntegrityError:
        # SQLite: a concurrent publish with the same key won the race.
        if idempotency_key is None:
            raise
        counts = None
    if counts is None:
        return _published_before(Event.objects.get(owner=owner, idempotency_key=idempotency_key))
    deliveries = sum(counts)
    logger.info(
        "event.published",
        extra={"event_id": event.public_id, "event_type": event_type, "deliveries": deliveries},
    )
    return PublishResult(event=event, deliveries=deliveries, created=True)


def _published_before(event: Event) -> PublishResult:
    return PublishResult(event=event, deliveries=event.deliveries.count(), created=False)


def _event_insert(event: Event, hooks: list[PublishHook]) -> list[int] | None:
    """Insert `event` and run every hook on it; each hook's count of deliveries, or None when
    another event of the owner already holds its idempotency key."""
    on_postgresql = connection.vendor == "postgresql"
    statements = [hook.statement(event=event) if on_postgresql else None for hook in hooks]
    # One statement is its own transaction; hooks that write from Python need a shared one.
    with transaction.atomic() if None in statements else contextlib.nullcontext():
        if on_postgresql:
            written = _event_insert_with(event, [s for s in statements if s is not None])
            if written is None:
                return None
        else:
            event.save(force_insert=True)
            written = []
        written = iter(written)
        counts = [
            hook.create(event=event) if statement is None else next(written)
            for hook, statement in zip(hooks, statements, strict=True)
        ]
        for hook, count in zip(hooks, counts, strict=True):
            hook.created(event=event, count=count)
    return counts


def _event_insert_with(event: Event, statements: list[tuple[str, list]]) -> list[int] | None:
    """PostgreSQL: INSERT `event` and run the hooks' statements over it, in one statement.

    Returns the row count of each statement, or None if the idempotency key was taken (the
    hooks' statements then read no event and write nothing).
    """
    quote = connection.ops.quote_name
    fields = [f for f in Event._meta.concrete_fields if not f.primary_key]
    params = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in fields]
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    hook_ctes = "".join(f", hook_{n} AS ({sql})" for n, (sql, _) in enumerate(statements))
    counts = "".join(f", (SELECT count(*) FROM hook_{n})" for n in range(len(statements)))  # noqa: S608
    sql = f"""
        WITH {NEW_EVENT} AS (
            INSERT INTO {quote(Event._meta.db_table)} ({columns}) VALUES ({placeholders})
            ON CONFLICT (owner_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
            RETURNING *
        ){hook_ctes}
        SELECT id{counts} FROM {NEW_EVENT}
    """  # noqa: S608  (names from model metadata and the hooks, values as parameters)
    for _, statement_params in statements:
        params.extend(statement_params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    event.pk = row[0]
    event._state.adding, event._state.db = False, connection.alias
    return list(row[1:])


PORTAL_LINK_LIFETIME = timedelta(minutes=15)


class PortalLinkInvalid(Exception):
    """A portal link that logs nobody in; `reason` says why, for the page the visitor sees."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class PortalLinkRefused(Exception):
    """Staff accounts get no portal links: a link turns a Bearer token into a full browser
    session, which for staff would open the admin too."""


def portal_link_create(
    *, user, lifetime: timedelta = PORTAL_LINK_LIFETIME
) -> tuple[PortalLink, str]:
    """A single-use portal login for `user`, valid for `lifetime`; returns the row and the raw
    token, which is never stored. Raises PortalLinkRefused for a staff account."""
    if user.is_staff or user.is_superuser:
        raise PortalLinkRefused("Portal links are for non-staff accounts.")
    raw_token = secrets.token_urlsafe(32)
    link = PortalLink.objects.create(
        user=user, key_hash=_token_hash(raw_token), expires_at=timezone.now() + lifetime
    )
    logger.info("portal_link.created", extra={"portal_link_id": link.pk, "user_id": user.pk})
    return link, raw_token


def _usable_links(key_hash: str, now):
    return PortalLink.objects.filter(
        key_hash=key_hash,
        used_at__isnull=True,
        expires_at__gt=now,
        user__is_active=True,
        user__is_staff=False,
        user__is_superuser=False,
    )


def _why_unusable(key_hash: str, now) -> str:
    link = PortalLink.objects.filter(key_hash=key_hash).first()
    if link is None:
        return "This link is not valid."
    if link.used_at is not None:
        return "This link was already used. Ask for a new one."
    if link.expires_at <= now:
        return "This link has expired. Ask for a new one."
    return "This link cannot log this account in."


def portal_link_check(*, raw_token: str) -> None:
    """Raise PortalLinkInvalid unless the link would log its user in, without using it: what
    a visit shows before the visitor confirms (a mail scanner or a link preview fetching the
    URL must not use up a single-use link)."""
    now = timezone.now()
    key_hash = _token_hash(raw_token)
    if not _usable_links(key_hash, now).exists():
        raise PortalLinkInvalid(_why_unusable(key_hash, now))


def portal_link_redeem(*, raw_token: str):
    """The active user the link logs in, marking it used; raises PortalLinkInvalid when it is
    unknown, used, expired, or its user inactive or staff by now.

    The use is one conditional UPDATE, so of two visits racing only one logs in.
    """
    now = timezone.now()
    key_hash = _token_hash(raw_token)
    if not _usable_links(key_hash, now).update(used_at=now):
        raise PortalLinkInvalid(_why_unusable(key_hash, now))
    link = PortalLink.objects.select_related("user").get(key_hash=key_hash)
    logger.info("portal_link.used", extra={"portal_link_id": link.pk, "user_id": link.user_id})
    return link.user
