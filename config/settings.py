"""Every setting comes from the environment (or an optional `.env`), read here and nowhere else.

With no environment at all the project runs on its *embedded default*: SQLite and kombu's
filesystem broker under `var/`, with a secret key and an encryption key generated there once.
Production sets `DEBUG=False`, `SECRET_KEY`, `FIELD_ENCRYPTION_KEYS`, `DATABASE_URL` and
`CELERY_BROKER_URL`; `config.checks` refuses to start without the secrets.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

from config import local_secrets

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    env.read_env(BASE_DIR / ".env")
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

APP_VERSION = "0.1.0"

# Saleor's convention: development is the default, production opts out with DEBUG=False.
DEBUG = env.bool("DEBUG", default=True)

# In development missing secrets are generated once into var/ (git-ignored); in production
# they stay empty and the `config.checks` system check stops start-up with a clear message.
SECRET_KEY = env.str("SECRET_KEY", default="") or (
    local_secrets.django_secret_key(VAR_DIR) if DEBUG else ""
)
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[]) or (
    [local_secrets.fernet_key(VAR_DIR)] if DEBUG else []
)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG

INSTALLED_APPS = [
    "config.apps.PlatformAdminConfig",  # django.contrib.admin, opening on the dashboard
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "webhooks",
    "subscriptions",
    "channels_app",
    "config.apps.ProjectConfig",  # the wiring's own start-up checks
]

MIDDLEWARE = [
    "config.observability.RequestObservabilityMiddleware",
    # Before anything reads the body: a chunked one would otherwise read as empty.
    "config.bodies.chunked_body_middleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite serialises writers: WAL lets readers run beside the writer, IMMEDIATE takes the
    # write lock at BEGIN so two writers queue on busy_timeout instead of failing mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
        ),
    }
    # A file, not Django's default in-memory test database, so the worker and server
    # processes the tests start open the same database as the test itself.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
else:
    # A new PostgreSQL connection per request costs ~8x the throughput of an ingest view here.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
        "DATABASE_CONNECT_TIMEOUT", default=5
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits, certificate cache); Redis in production -----------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    )
}

# --- Auth, i18n, static -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing root
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the app folders too, so `make run` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
LOGIN_URL = "login"

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Bearer first: its WWW-Authenticate header makes DRF answer 401, not 403.
        "webhooks.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON through webhooks.untrusted (never a 500 for deep nesting; 413 past the size cap);
    # forms stay for the browsable API.
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": (
        ["rest_framework.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"]
    ),
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "webhooks.api.schema.ApiSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Webhook Platform API",
    "DESCRIPTION": "Outbound subscriptions, events and inbound channels.",
    "VERSION": APP_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Separate request and response components (`SubscriptionRequest`, `Subscription`), so a
    # generated client neither has to send read-only fields nor expects write-only ones back.
    "COMPONENT_SPLIT_REQUEST": True,
    # The API's contract is JSON; forms are parsed and rendered only for the browsable API.
    "PARSER_WHITELIST": ["config.parsers.SafeJSONParser"],
    "RENDERER_WHITELIST": ["rest_framework.renderers.JSONRenderer"],
    # Two models' `status` choices: named after their models rather than after a hash.
    "ENUM_NAME_OVERRIDES": {
        "DeliveryStatusEnum": "subscriptions.models.Delivery.Status",
        "InboundEventStatusEnum": "channels_app.models.InboundEvent.Status",
    },
    # Servers have no network: serve Swagger UI from our own static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
    }
    for _folder in (_broker_dir, VAR_DIR / "broker-control"):
        _folder.mkdir(parents=True, exist_ok=True)
else:
    # Long delays live in the database (next_attempt_at + sweep), so the Redis transport's
    # visibility timeout only bounds how long an unacked message of a dead worker waits.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", 3600)
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env.int("CELERY_PREFETCH_MULTIPLIER", default=4)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    # A slow mail server must not hold a process that pumps deliveries.
    "subscriptions.tasks.operational_email_task": {"queue": "default"},
    "subscriptions.tasks.*": {"queue": "deliveries"},
    "channels_app.*": {"queue": "inbound"},  # its tasks and its platform packages'
}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Celery's Django fixup closes the DB connection around every task unless this is set;
# measured here that alone is 108 vs 273 deliveries/s for a Django webhook library.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The safety net of outbound delivery: stranded claims released, lost wakes sent again.
DELIVERY_SWEEP_SECONDS = env.float("DELIVERY_SWEEP_SECONDS", default=5.0)
# Inbound's: processing owed whose message was lost, and due retries (of both processing and
# the Qualia message fetch).
INBOUND_SWEEP_SECONDS = env.float("INBOUND_SWEEP_SECONDS", default=10.0)
# Seeded into django-celery-beat's tables on beat start, then editable in the admin.
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "webhooks.tasks.worker_heartbeat_task", "schedule": 30.0},
    "deliveries-sweep": {
        "task": "subscriptions.tasks.deliveries_sweep_task",
        "schedule": DELIVERY_SWEEP_SECONDS,
    },
    "inbound-sweep": {
        "task": "channels_app.tasks.inbound_events_sweep_task",
        "schedule": INBOUND_SWEEP_SECONDS,
    },
    "inbound-cleanup": {
        "task": "channels_app.tasks.inbound_events_cleanup_task",
        "schedule": crontab(hour=env.int("INBOUND_CLEANUP_HOUR", default=3), minute=0),
    },
    "qualia-message-fetches-sweep": {
        "task": "channels_app.platforms.qualia.tasks.qualia_message_fetches_sweep_task",
        "schedule": INBOUND_SWEEP_SECONDS,
    },
    "deliveries-cleanup": {
        "task": "subscriptions.tasks.deliveries_cleanup_task",
        "schedule": crontab(hour=env.int("DELIVERY_CLEANUP_HOUR", default=2), minute=0),
    },
}

# --- Observability --------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.observability.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "config.observability.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}

# --- Product settings shared by the apps ------------------------------------------------------
# Lists of webhooks.catalog.EventType, merged into the catalog subscriptions choose from.
EVENT_TYPE_CATALOGS = ["webhooks.catalog.BUILTIN_EVENT_TYPES", "channels_app.events.EVENT_TYPES"]
# Callables returning {namespace: description}: every `<namespace>.<type>` is a valid type.
EVENT_TYPE_NAMESPACES = ["channels_app.events.source_namespaces"]
# Callables taking events and returning {event id: cause}: what made each one (webhooks.lineage).
EVENT_CAUSE_PROVIDERS = ["channels_app.selectors.inbound_causes"]
# webhooks.publishing.PublishHook subclasses: what each published event also writes, in its
# transaction. This is how an event reaches subscriptions without webhooks importing them.
EVENT_PUBLISH_HOOKS = ["subscriptions.fanout.DeliveryFanOut"]
# Optional NATS JetStream bus: every event also goes to subject events.<event_type>.
EVENT_BUS_URL = env.str("EVENT_BUS_URL", default="")
EVENT_BUS_STREAM = env.str("EVENT_BUS_STREAM", default="EVENTS")
EVENT_BUS_SUBJECT_PREFIX = env.str("EVENT_BUS_SUBJECT_PREFIX", default="events")
if EVENT_BUS_URL:
    EVENT_PUBLISH_HOOKS.append("webhooks.bus.BusOutbox")
    CELERY_BEAT_SCHEDULE["event-bus-sweep"] = {
        "task": "webhooks.tasks.event_bus_sweep_task",
        "schedule": 30.0,
    }
HEALTH_PENDING_WORK = {
    "inbound_received": "channels_app.selectors.inbound_events_waiting_count",
    "inbound_failed": "channels_app.selectors.inbound_events_failed_count",
    "deliveries_due": "subscriptions.selectors.deliveries_due_count",
    "deliveries_scheduled": "subscriptions.selectors.deliveries_scheduled_count",
}
# Gauges /metrics reads from the database at each scrape (prometheus_client collectors).
METRICS_COLLECTORS = [
    "subscriptions.metrics.OutboundCollector",
    "channels_app.collectors.InboundCollector",
]

# --- Inbound channels -------------------------------------------------------------------------
MAX_PAYLOAD_SIZE_MB = env.int("MAX_PAYLOAD_SIZE_MB", default=10)
INBOUND_RATE_LIMIT_PER_MINUTE = env.int("INBOUND_RATE_LIMIT_PER_MINUTE", default=6000)
# Processing retries after the first attempt, each after a backoff of at most the cap; then the
# row is dead (kept with its error, reprocessable).
INBOUND_MAX_RETRIES = env.int("INBOUND_MAX_RETRIES", default=5)
INBOUND_BACKOFF_CAP_SECONDS = env.int("INBOUND_BACKOFF_CAP_SECONDS", default=600)
# Stored requests (raw bodies hold customer data) are deleted this long after receipt once
# processed, ignored or dead; what they projected stays.
INBOUND_RETENTION = timedelta(days=env.int("INBOUND_RETENTION_DAYS", default=30))
# The Qualia message fetch retries with backoff up to the cap for this long (Qualia outages
# happen), then gives up as dead.
QUALIA_FETCH_BACKOFF_CAP_SECONDS = env.int("QUALIA_FETCH_BACKOFF_CAP_SECONDS", default=900)
QUALIA_FETCH_GIVE_UP_AFTER = timedelta(hours=env.int("QUALIA_FETCH_GIVE_UP_HOURS", default=48))
# Receivers remember an account (and its decrypted secret) for this long per process.
INBOUND_ACCOUNT_CACHE_SECONDS = env.int("INBOUND_ACCOUNT_CACHE_SECONDS", default=5)
# A burst of webhooks for one account queues one drain: at most one wake per this many seconds
# while a drain is queued and not yet started.
INBOUND_WAKE_DEBOUNCE_SECONDS = env.int("INBOUND_WAKE_DEBOUNCE_SECONDS", default=10)
# A drain that has run this long wakes itself again and stops, behind other accounts' work.
INBOUND_DRAIN_SECONDS = env.float("INBOUND_DRAIN_SECONDS", default=5.0)
# Single-tenant credentials (these two for Qualia, SHOPIFY_ and STRIPE_WEBHOOK_SECRET below) act
# as accounts owned by ENVIRONMENT_ACCOUNTS_OWNER (a username), else the first superuser; the
# environment stays the truth for their secrets and passwords.
ENVIRONMENT_ACCOUNTS_OWNER = env.str("ENVIRONMENT_ACCOUNTS_OWNER", default="")
WEBHOOK_USERNAME = env.str("WEBHOOK_USERNAME", default="")
WEBHOOK_PASSWORD = env.str("WEBHOOK_PASSWORD", default="")
QUALIA_API_URL = env.str(
    "QUALIA_API_URL", default="https://marketplace.qualia.io/api/vendor/graphql"
)
QUALIA_API_TOKEN = env.str("QUALIA_API_TOKEN", default="")
SHOPIFY_WEBHOOK_SECRET = env.str("SHOPIFY_WEBHOOK_SECRET", default="")
# Registering our receiver with a shop (POST /api/webhooks/register/<account_id>): the public
# base URL Shopify posts to (+ /webhooks/shopify), and the pinned Admin REST API version.
WEBHOOK_BASE_URL = env.str("WEBHOOK_BASE_URL", default="")
SHOPIFY_API_VERSION = env.str("SHOPIFY_API_VERSION", default="2025-07")
SHOPIFY_ADMIN_URL_TEMPLATE = env.str(
    "SHOPIFY_ADMIN_URL_TEMPLATE", default="https://{shop}/admin/api/{version}/{resource}"
)
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# Amazon SP-API over SNS: SigningCertURL and SubscribeURL are fetched only with these schemes
# and from a hostname fully matching this pattern (tests allow http on 127.0.0.1).
AMAZON_SNS_CERT_HOST_PATTERN = env.str(
    "AMAZON_SNS_CERT_HOST_PATTERN", default=r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$"
)
AMAZON_SNS_URL_SCHEMES = env.list("AMAZON_SNS_URL_SCHEMES", default=["https"])
# Older messages are refused as replays; keep it above the topic's delivery retry window.
AMAZON_SNS_MAX_AGE_SECONDS = env.int("AMAZON_SNS_MAX_AGE_SECONDS", default=3600)
AMAZON_SNS_CERT_CACHE_SECONDS = env.int("AMAZON_SNS_CERT_CACHE_SECONDS", default=3600)
AMAZON_SNS_HTTP_TIMEOUT_SECONDS = env.float("AMAZON_SNS_HTTP_TIMEOUT_SECONDS", default=5)

# --- Live stream (SSE, served by the ASGI process) -------------------------------------------
STREAM_POLL_SECONDS = env.float("STREAM_POLL_SECONDS", default=0.5)
STREAM_HEARTBEAT_SECONDS = env.float("STREAM_HEARTBEAT_SECONDS", default=15)
STREAM_REPLAY_LIMIT = env.int("STREAM_REPLAY_LIMIT", default=1000)  # events per replay page
# Where the live page opens its stream: same origin behind a proxy that routes streams to the
# ASGI process; under `make run` the ASGI process's own port, allowed by CORS below.
LIVE_STREAM_URL = env.str("LIVE_STREAM_URL", default="/api/events/stream")
STREAM_ALLOWED_ORIGINS = env.list("STREAM_ALLOWED_ORIGINS", default=[])

# --- Outbound delivery ------------------------------------------------------------------------
# Private, loopback and reserved endpoint addresses: allowed only in development and tests.
WEBHOOKS_ALLOW_PRIVATE_URLS = env.bool("WEBHOOKS_ALLOW_PRIVATE_URLS", default=DEBUG)
WEBHOOKS_USER_AGENT = env.str("WEBHOOKS_USER_AGENT", default=f"WebhookPlatform/{APP_VERSION}")
# Requests one worker process keeps in flight at once, across all endpoints.
DELIVERY_CONCURRENCY = env.int("DELIVERY_CONCURRENCY", default=200)
# A pump (one delivery task) claims new work for this long, then hands over to a fresh task
# so the worker process also serves its other queues; it ends sooner after this long idle.
DELIVERY_PUMP_SECONDS = env.float("DELIVERY_PUMP_SECONDS", default=30.0)
DELIVERY_PUMP_IDLE_SECONDS = env.float("DELIVERY_PUMP_IDLE_SECONDS", default=1.0)
# How often a pump with room looks for newly due work (the bound on a retry's lateness).
DELIVERY_POLL_SECONDS = env.float("DELIVERY_POLL_SECONDS", default=0.1)
DELIVERY_BACKOFF_CAP_SECONDS = env.float("DELIVERY_BACKOFF_CAP_SECONDS", default=6 * 3600)
DELIVERY_BREAKER_THRESHOLD = env.int("DELIVERY_BREAKER_THRESHOLD", default=5)
DELIVERY_BREAKER_COOLDOWN_SECONDS = env.float("DELIVERY_BREAKER_COOLDOWN_SECONDS", default=60)
DELIVERY_DISABLE_AFTER = timedelta(days=env.float("DELIVERY_DISABLE_AFTER_DAYS", default=5))
DELIVERY_RETENTION = timedelta(days=env.int("DELIVERY_RETENTION_DAYS", default=30))
# A claimed delivery is stranded (its worker died) after its timeout + this margin.
DELIVERY_CLAIM_MARGIN_SECONDS = env.int("DELIVERY_CLAIM_MARGIN_SECONDS", default=30)
DELIVERY_WAKE_DEBOUNCE_SECONDS = env.int("DELIVERY_WAKE_DEBOUNCE_SECONDS", default=10)
# Operational events (subscriptions.operational): at most one endpoint.failing and one
# delivery.exhausted per endpoint per window; the owner is emailed about endpoint.disabled and
# delivery.exhausted unless OPERATIONAL_EMAILS is off. Email goes to the console in
# development, else over EMAIL_URL (e.g. smtp+tls://user:password@smtp.example.com:587).
OPERATIONAL_EVENT_WINDOW_SECONDS = env.int("OPERATIONAL_EVENT_WINDOW_SECONDS", default=60)
OPERATIONAL_EMAILS = env.bool("OPERATIONAL_EMAILS", default=True)
vars().update(
    env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="webhooks@localhost")
STAFF_USERNAME = env.str("STAFF_USERNAME", default="admin")
STAFF_EMAIL = env.str("STAFF_EMAIL", default="admin@localhost")
STAFF_PASSWORD = env.str("STAFF_PASSWORD", default="")
