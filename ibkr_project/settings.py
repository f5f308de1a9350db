"""Settings for the IBKR REST service.

Every value comes from the environment through one ``environ.Env()``; the
defaults are the safe ones (paper trading on the simulator's port, loopback,
DEBUG off). ``.env.example`` lists every variable with its meaning.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is optional; real deployments set the environment directly.
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

# --- Django core -----------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Production hardening (manage.py check --deploy passes with these defaults
# when DJANGO_SECURE=1; the local demo runs plain HTTP on loopback).
SECURE = env.bool("DJANGO_SECURE", default=False)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=SECURE)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000 if SECURE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE else None
X_FRAME_OPTIONS = "DENY"
# The fallback key is public (it is in the repository): good for the local
# demo and tests only. Production (DJANGO_SECURE=1) refuses to start without a
# real one, in every process (web, worker, scheduler, manage.py check --deploy):
# with the public key anyone could forge an admin session (kill switch, tokens).
# The web also refuses it on a non-loopback address (trading.auth).
INSECURE_DEV_SECRET_KEY = "insecure-dev-key-only-for-the-local-demo-and-tests-0123456789abcdef"
SECRET_KEY = env("DJANGO_SECRET_KEY", default=INSECURE_DEV_SECRET_KEY)
MIN_SECRET_KEY_LENGTH = 50
if SECURE and (
    SECRET_KEY == INSECURE_DEV_SECRET_KEY
    or len(SECRET_KEY) < MIN_SECRET_KEY_LENGTH
    or len(set(SECRET_KEY)) < 5
):
    raise ImproperlyConfigured(
        "DJANGO_SECURE=1 (production) needs DJANGO_SECRET_KEY set to a secret of at least "
        f"{MIN_SECRET_KEY_LENGTH} random characters, not the public demo key; generate one "
        "with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"]
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles: its runserver command (which refuses public
    # addresses in the demo) wins over staticfiles' one.
    "trading",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI's and ReDoc's JavaScript, pinned and served by us (no CDN).
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "journal",
    "v2api",  # Alpaca's Trading API v2 at /v2
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the admin's and the API docs' static files from gunicorn.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "ibkr_project.urls"
WSGI_APPLICATION = "ibkr_project.wsgi.application"
# The guide's paths have no trailing slash (/account, /order/limit).
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- Database --------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# Keep each thread's connection between requests (0 would open a new one per
# request: a TCP connect and login on PostgreSQL, a file open and the PRAGMAs
# below on SQLite, measured at about 1 ms of every order's round trip). A
# connection that went bad is noticed and replaced before a request uses it.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=300)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The same backend, without the health check's SELECT 1 for a connection
    # that completed a statement within the last 2 s (ibkr_project/postgresql).
    DATABASES["default"]["ENGINE"] = "ibkr_project.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker, scheduler) write the same file: wait for
    # the lock instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = env.int(
        "SQLITE_TIMEOUT_SECONDS", default=20
    )
    # Take the write lock when a transaction begins: a deferred transaction that
    # reads, then writes (the journal's upserts) fails at once with "database is
    # locked" when another one does the same, instead of waiting for the lock.
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    # Write-ahead log: readers never wait for the writer, and a commit costs one
    # fsync of the log instead of several (measured: the order round trip's two
    # audit writes went from ~20 ms to ~1 ms). NORMAL is durable in WAL mode
    # except for the last transactions on a power loss.
    DATABASES["default"]["OPTIONS"]["init_command"] = (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    # Tests share the test database with real worker processes, so it must be a
    # file, not the in-memory default.
    DATABASES["default"]["TEST"] = {
        "NAME": env("SQLITE_TEST_PATH", default=str(BASE_DIR / "var" / "test.sqlite3"))
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and the gateway state mirror -----------------------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
# The gateway worker mirrors account, positions and orders into this cache so
# reads never wait behind an order. Redis normally; `make run` switches to a
# file cache when no Redis server can be had.
CACHES = {
    "default": env.cache_url(
        "CACHE_URL", default=REDIS_URL.replace("redis://", "rediscache://", 1)
    ),
}
CACHES["default"].setdefault("KEY_PREFIX", env("CACHE_KEY_PREFIX", default="ibkr"))

# --- Celery ----------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL)
# JSON only: task arguments are primitives (ids, symbols, prices), never pickles.
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Orders and gateway calls go to one queue that only the gateway worker consumes.
CELERY_TASK_DEFAULT_QUEUE = env("GATEWAY_QUEUE", default="gateway")
# The gateway worker's tasks and start-up (it alone imports ib_async): loaded by
# the worker, never by the web processes, which send tasks by name.
CELERY_IMPORTS = ("trading.gateway.tasks",)
GATEWAY_QUEUE = CELERY_TASK_DEFAULT_QUEUE
# How orders reach the gateway worker (trading/bus.py): "redis", a list on the
# broker's Redis (one round trip each way), or "celery", tasks and Celery's
# result backend (what the serverless fallback's filesystem broker needs).
ORDER_TRANSPORT = env(
    "ORDER_TRANSPORT",
    default="redis" if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else "celery",
)
if ORDER_TRANSPORT not in ("redis", "celery"):
    raise ImproperlyConfigured("ORDER_TRANSPORT must be 'redis' or 'celery'")
# A gateway call never legitimately runs for minutes; kill it well before the
# broker's visibility timeout would redeliver it.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
# Acknowledge after the task ran so a worker killed mid-order redelivers it;
# the order service reconciles with the gateway before placing again.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One task at a time per thread: a slow order must not hold back prefetched ones.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Results are read once by the waiting web request; do not keep them for a day.
CELERY_RESULT_EXPIRES = env.int("CELERY_RESULT_EXPIRES", default=3600)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# `make run` without any Redis falls back to kombu's filesystem transport, which
# needs a folder shared by the web processes and the worker.
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = env("CELERY_FILESYSTEM_BROKER_DIR", default=str(BASE_DIR / "var" / "broker"))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": _broker_dir,
        "data_folder_out": _broker_dir,
        "processed_folder": _broker_dir + "-processed",
        "store_processed": False,
        # kombu's default is ./control in the working directory.
        "control_folder": _broker_dir + "-control",
    }
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Interactive Brokers gateway -------------------------------------------
# Defaults point at the simulator (ibsim, port 4012): paper trading, loopback.
IB_HOST = env("IB_HOST", default="127.0.0.1")
IB_PORT = env.int("IB_PORT", default=4012)
# One fixed clientId for the single worker that holds the connection. 0 is IB's
# master client: it sees (and may cancel) every client's orders.
IB_CLIENT_ID = env.int("IB_CLIENT_ID", default=0)
# Empty means "the first account the gateway manages".
IB_ACCOUNT = env("IB_ACCOUNT", default="")
IB_CONNECT_TIMEOUT = env.float("IB_CONNECT_TIMEOUT", default=10.0)
# How long a single gateway request (contract lookup, executions...) may take.
IB_REQUEST_TIMEOUT = env.float("IB_REQUEST_TIMEOUT", default=10.0)
# How long POST /order/* waits for IB's acknowledgement (permId) before 504.
ORDER_ACK_TIMEOUT = env.float("ORDER_ACK_TIMEOUT", default=15.0)
# Reads answer 503 when the worker's heartbeat is older than this.
GATEWAY_STALE_AFTER = env.float("GATEWAY_STALE_AFTER", default=5.0)
# Seconds an Idempotency-Key and its answer are kept (at least a day).
IDEMPOTENCY_KEY_TTL = max(env.int("IDEMPOTENCY_KEY_TTL", default=7 * 24 * 3600), 24 * 3600)
IB_RECONNECT_MAX_DELAY = env.float("IB_RECONNECT_MAX_DELAY", default=10.0)
# A gateway can freeze with its socket open: the worker asks it the time every
# IB_PROBE_EVERY seconds and calls it unresponsive (reads and orders 503) when
# no answer comes within IB_PROBE_TIMEOUT; an answer makes it responsive again.
IB_PROBE_EVERY = env.float("IB_PROBE_EVERY", default=5.0)
IB_PROBE_TIMEOUT = env.float("IB_PROBE_TIMEOUT", default=5.0)
# Market orders are checked against MAX_ORDER_NOTIONAL at the quote (the ask for
# a buy, the bid for a sell): the worker streams quotes of the symbols it trades.
# Type 3 gives live quotes where the account subscribes, delayed ones where not
# (1 live only, 2 frozen, 4 delayed frozen). QUOTE_WAIT: seconds a market order
# waits for a new stream's first quote before it is refused for want of a price.
IB_MARKET_DATA_TYPE = env.int("IB_MARKET_DATA_TYPE", default=3)
# Messages the worker sends IB in any second at most (ib_async's throttle; IB
# drops what passes 50, error 100). ib_async's own default is 45; the gateway
# counts when it reads a message, so a burst that a busy moment held back
# arrives with the next second's: 43 leaves that room (issue 18's bench saw
# 3-4 drops in 30 s at 45 under load, none at 43) and 42 orders a second.
IB_MAX_MESSAGES_PER_SECOND = env.int("IB_MAX_MESSAGES_PER_SECOND", default=43)
QUOTE_WAIT = env.float("QUOTE_WAIT", default=2.0)

# Mount /bench/noop (the benchmark's floor B). Off except under `make bench`.
BENCH_NOOP_ENDPOINT = env.bool("BENCH_NOOP_ENDPOINT", default=False)

# --- REST framework and OpenAPI --------------------------------------------
RENDERER_CLASSES = ["rest_framework.renderers.JSONRenderer"]
if DEBUG:
    RENDERER_CLASSES.append("rest_framework.renderers.BrowsableAPIRenderer")
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "trading.error_handler.exception_handler",
    "DEFAULT_RENDERER_CLASSES": RENDERER_CLASSES,
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # API tokens with a scope (read, trade, live); see trading/auth.py.
    "DEFAULT_AUTHENTICATION_CLASSES": ["trading.auth.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["trading.auth.ScopePermission"],
    "UNAUTHENTICATED_USER": None,
}

# --- Access and trading safety ----------------------------------------------
# The local demo (`make run` sets it) serves the guide's unauthenticated
# examples; only on a loopback bind, and never for live trading.
LOCAL_DEMO = env.bool("IBKR_LOCAL_DEMO", default=False)
WEB_BIND = env("WEB_BIND", default="127.0.0.1:8000")
# Live trading needs this switch AND a token with the "live" scope. Without it
# every order against a live gateway (port 4001/7496, or a non-DU account) is refused.
LIVE_TRADING = env.bool("LIVE_TRADING", default=False)
# DELETE /v2/orders?scope=all (IB's global cancel of every client's orders):
# 'live' tokens only, unless this lets 'trade' tokens (and the local demo) too.
GLOBAL_CANCEL_TRADE_SCOPE = env.bool("GLOBAL_CANCEL_TRADE_SCOPE", default=False)
LIVE_PORTS = (4001, 7496)
# Pre-trade limits (0 / empty = no limit).
MAX_ORDER_QUANTITY = env.float("MAX_ORDER_QUANTITY", default=10_000)
MAX_ORDER_NOTIONAL = env.float("MAX_ORDER_NOTIONAL", default=1_000_000)
SYMBOL_ALLOWLIST = [s.upper() for s in env.list("SYMBOL_ALLOWLIST", default=[])]
SYMBOL_DENYLIST = [s.upper() for s in env.list("SYMBOL_DENYLIST", default=[])]
# GET /v2/assets lists these symbols (comma-separated) besides the ones held,
# ordered or looked up (IB has no list of every contract; see v2api/README.md).
ASSET_SYMBOLS = [s.upper() for s in env.list("ASSET_SYMBOLS", default=[])]

SPECTACULAR_SETTINGS = {
    "TITLE": "IBKR Trading API",
    "DESCRIPTION": (
        "A REST API in front of Interactive Brokers' IB Gateway / TWS: account, "
        "positions, pending orders, executions, and limit, market, stop and "
        "bracket orders. One worker keeps one gateway connection open."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema states the server's rules (trading/schema.py): the statuses each
    # operation can answer, and links from an order's permIds to its cancel.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "trading.schema.postprocess",
        "v2api.schema.postprocess",  # /v2's errors in Alpaca's shape (after trading's)
    ],
    # Alpaca's enums under their own names (fields of the same name differ at the root).
    "ENUM_NAME_OVERRIDES": {
        "AlpacaSideEnum": "v2api.serializers.SIDES",
        "AlpacaOrderTypeEnum": "v2api.serializers.ORDER_TYPES",
        "AlpacaTimeInForceEnum": "v2api.serializers.TIME_IN_FORCE",
        "AlpacaStopTimeInForceEnum": "v2api.serializers.STOP_TIME_IN_FORCE",
        "AlpacaOrderClassEnum": "v2api.serializers.ORDER_CLASSES",
        "AlpacaLinkedOrderClassEnum": "v2api.serializers.LINKED_CLASSES",
        "AlpacaOrderStatusEnum": "v2api.serializers.ORDER_STATUSES",
        "AlpacaLimitTypeEnum": "v2api.serializers.LIMIT_ONLY",
        "AlpacaMarginCheckEnum": "v2api.serializers.MARGIN_CHECKS",
        "AlpacaAssetClassEnum": "v2api.serializers_market.ASSET_CLASSES",
        "AlpacaOrderAssetClassEnum": ["us_equity"],
        "AlpacaPositionAssetClassEnum": ["us_equity", "us_option", "crypto"],
    },
    # /docs and /redoc load their JavaScript from our own static files
    # (drf-spectacular-sidecar, pinned in requirements.txt), not from a CDN at
    # @latest: they render offline, and no third-party script runs on a page
    # where people paste trading tokens (tests/docs/test_docs_offline.py).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Internationalisation, static files, logging ---------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = env("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # ib_async logs every message at INFO; its warnings and errors are what matter.
    "loggers": {"ib_async": {"level": env("IB_LOG_LEVEL", default="WARNING")}},
}
