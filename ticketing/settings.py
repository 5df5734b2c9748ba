"""Settings for the ticketing platform, read from the environment (12-factor).

Every variable is listed with its default in the README. Production (the default) runs with DEBUG
off, a SECRET_KEY from the environment and PostgreSQL through DATABASE_URL; a local development
run (DJANGO_ENV=development: ./scripts/dev, or ./manage.py with no environment) gets DEBUG, SQLite
and a development key without any further setup.
"""

import datetime as dt
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Which settings a process runs with: "production" (the default for everything that imports them:
# Lambda, gunicorn, the WSGI module, tests) or "development" (./scripts/dev, and ./manage.py when
# the environment names none: see manage.py). DEBUG=1 alone still means a local development run.
DJANGO_ENV = os.environ.get("DJANGO_ENV") or ("development" if env_bool("DEBUG") else "production")
if DJANGO_ENV not in ("development", "production"):
    raise ImproperlyConfigured('DJANGO_ENV must be "development" or "production".')
DEVELOPMENT = DJANGO_ENV == "development"
DEBUG = env_bool("DEBUG", DEVELOPMENT)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEVELOPMENT:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set in the environment in production (DJANGO_ENV=production, the "
            "default outside manage.py). For a local run: ./manage.py with no environment, "
            "./scripts/dev, or DJANGO_ENV=development."
        )
    SECRET_KEY = "django-insecure-local-development-only"  # noqa: S105 (development only)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEVELOPMENT else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "ticketing.backoffice.apps.BackOfficeAdminConfig",  # django.contrib.admin, loaded on first use
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ticketing.events",
    "ticketing.orders",
    "ticketing.tracking",
    "ticketing.outbox",
    "ticketing.backoffice",
    "ticketing.fans",
    "ticketing.notify",
    "ticketing.limits",
    "axes",
    "ticketing.checkin",
    "ticketing.queue",
    "ticketing.refunds",
    "ticketing.payments",
    "widget",
    "django.contrib.sitemaps",
]

MIDDLEWARE = [
    "ticketing.inputs.RejectNulMiddleware",  # first: no other code sees a NUL (ticketing/inputs.py)
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Session, CSRF and auth only touch a response when a view reads them, so the hot paths
    # (widget API, tracking beacon) stay free of Set-Cookie and Vary: Cookie as long as they
    # never look at request.session, request.user or the CSRF token.
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Admin login lockout (django-axes); it looks at no request but a login's.
    "axes.middleware.AxesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ticketing.content_security.ContentSecurityPolicyMiddleware",  # HTML responses only
]

ROOT_URLCONF = "ticketing.urls"
WSGI_APPLICATION = "ticketing.wsgi.application"

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

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The same backend, with a health check that needs no round trip (ticketing/db/postgresql/).
    DATABASES["default"]["ENGINE"] = "ticketing.db.postgresql"

# Proof of work on joining a waiting room: leading zero bits of SHA-256 (ticketing/queue/pow.py).
QUEUE_POW_DIFFICULTY = env_int("QUEUE_POW_DIFFICULTY", 15)

FORMS_URLFIELD_ASSUME_HTTPS = True  # Django 6's default, today

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"  # the back office's, and the fan pages' when nothing else is known
# The fan pages' languages, the widget's own. No LocaleMiddleware: the fan views choose the
# language from the URL (`lang`), the order or Accept-Language (ticketing/fans/languages.py),
# so that no other path parses Accept-Language or answers `Vary: Accept-Language`.
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]  # compiled .mo files are committed beside their .po
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True  # stored in UTC; shown in each venue's own time zone

STATIC_URL = os.environ.get("STATIC_URL", "/static/")
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Content-Security-Policy of every HTML page (ticketing/content_security.py): nothing inline,
# everything from this site or the static files host (STATIC_URL may name another origin).
_STATIC_ORIGIN = urlsplit(STATIC_URL)
_SELF = ["'self'"] + (
    [f"{_STATIC_ORIGIN.scheme}://{_STATIC_ORIGIN.netloc}"] if _STATIC_ORIGIN.netloc else []
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": _SELF,
        "style-src": _SELF,
        "img-src": [*_SELF, "data:"],  # Swagger UI's icons are data: URIs in its stylesheet
        "font-src": _SELF,
        "connect-src": ["'self'"],  # the widget, the countdowns and the beacon call this site
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Security: HTTPS everywhere outside DEBUG. CloudFront and API Gateway terminate TLS and say so
# in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Email: sent by the outbox (ticketing/outbox) after commit, never on a request path ---------
# SMTP when EMAIL_HOST is set (e.g. Amazon SES's SMTP endpoint), else printed to the console.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = os.environ.get("EMAIL_HOST") or "localhost"
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")  # STARTTLS, port 587
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")  # implicit TLS, port 465
EMAIL_PORT = env_int("EMAIL_PORT", 587 if EMAIL_USE_TLS else 465 if EMAIL_USE_SSL else 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
# Seconds any one SMTP operation may take: a server that accepts and never answers fails the
# attempt, which the outbox retries later.
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "tickets@localhost")
# How the outbox sends a new email once its transaction commits: `lambda` (an asynchronous
# invocation of this function), `thread` (a sender thread of this process), `inline` (right
# away, in the committing thread: tests), `off` (only the drain: `manage.py send_outbox`, the
# schedule). `auto` is `lambda` on AWS Lambda, else `thread`.
OUTBOX_PROMPT = os.environ.get("OUTBOX_PROMPT", "auto")
if OUTBOX_PROMPT not in ("auto", "lambda", "thread", "inline", "off"):
    raise ImproperlyConfigured("OUTBOX_PROMPT must be auto, lambda, thread, inline or off.")
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 10)  # then the email is `failed`

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django": {"handlers": ["console"], "level": "WARNING", "propagate": False}},
}

# Product settings.
DEFAULT_CURRENCY = os.environ.get("DEFAULT_CURRENCY", "EUR")

# --- Tracking (beacon -> sink -> consumer -> analytics) -----------------------------------------
TRACKING_STREAM = os.environ.get("TRACKING_STREAM", "")  # the Kinesis stream of the beacon hits
TRACKING_SINK = os.environ.get("TRACKING_SINK") or ("kinesis" if TRACKING_STREAM else "local")
if TRACKING_SINK not in ("kinesis", "local"):
    raise ImproperlyConfigured('TRACKING_SINK must be "kinesis" or "local".')
if TRACKING_SINK == "kinesis" and not TRACKING_STREAM:
    raise ImproperlyConfigured("TRACKING_SINK=kinesis needs TRACKING_STREAM (the stream's name).")
# Seconds between background flushes of the beacon buffer; 0 flushes at the end of each request
# (always so on Lambda, where a frozen process runs no thread).
TRACKING_FLUSH_SECONDS = float(os.environ.get("TRACKING_FLUSH_SECONDS", "1"))
TRACKING_MAX_BUFFERED = env_int("TRACKING_MAX_BUFFERED", 20000)  # records, then new ones drop
TRACKING_PUT_BUDGET_SECONDS = float(os.environ.get("TRACKING_PUT_BUDGET_SECONDS", "2"))
# On Lambda the flush runs before the beacon's response leaves: there it may take this long at
# most; what Kinesis did not take by then waits for the next request's flush.
TRACKING_LAMBDA_PUT_BUDGET_SECONDS = float(
    os.environ.get("TRACKING_LAMBDA_PUT_BUDGET_SECONDS", "0.05")
)
TRACKING_DEDUPE_HOURS = env_int("TRACKING_DEDUPE_HOURS", 48)  # how long a hit id is remembered

# --- Tour widget (widget/) ---------------------------------------------------------------------
# The widget API is cached by browsers and the CDN for a few seconds; see widget/http.py.
WIDGET_MAX_AGE = 10  # browsers
WIDGET_S_MAXAGE = 10  # the CDN (CloudFront; nginx in the benchmark)
WIDGET_STALE_WHILE_REVALIDATE = 30
WIDGET_LOADER_MAX_AGE = 300  # the tiny loader; the bundle it loads is hashed and immutable
# Seconds the origin keeps an encoded API body in process memory; 0 turns that cache off.
WIDGET_ORIGIN_CACHE_SECONDS = float(os.environ.get("WIDGET_ORIGIN_CACHE_SECONDS", "5"))
# Prepare the API's query once per PostgreSQL connection. Turn off behind a pooler that keeps no
# session state (PgBouncer in transaction mode) or pins sessions that PREPARE (RDS Proxy).
WIDGET_PREPARED_QUERY = env_bool("WIDGET_PREPARED_QUERY", True)
WIDGET_FEW_LEFT = 20  # "few tickets left" from this many remaining tickets down
WIDGET_MAX_EVENTS = 100  # the most events one API response lists (`limit` is capped to it)

# --- Checkout (ticketing/orders): JSON API, payment providers --------------------------------
INSTALLED_APPS += ["rest_framework", "drf_spectacular", "drf_spectacular_sidecar"]
# The checkout API is addressed by secret tokens, never by cookies: no authentication classes,
# so nothing reads the session (no Vary: Cookie) and DRF enforces no CSRF; JSON only, so no
# browsable-API page renders a CSRF token either.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["ticketing.orders.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "ticketing.orders.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Ticketing checkout API",
    "DESCRIPTION": "Holds, orders and the server clock for fan checkout. No cookies, no "
    "sessions: a hold is addressed by its secret token, an order by its code and email.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # vendored: docs work without any CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No badge from the public validator: it would be an image from another site (and a CSP
    # violation), and it would send the schema's address there.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}
# Dotted paths of payment providers (ticketing/orders/payments.py); the first is the default.
PAYMENT_PROVIDERS = [
    "ticketing.payments.stripe_provider.StripeCard",  # offered only with its three keys set
    "ticketing.orders.payments.PayAtVenue",
]
# Card payments (ticketing/payments): Stripe's keys from the environment (Secrets Manager on
# Lambda); STRIPE_API_BASE / STRIPE_JS_URL point tests at localstripe.
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = os.environ.get("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "")
STRIPE_JS_URL = os.environ.get("STRIPE_JS_URL", "https://js.stripe.com/v3/")
STRIPE_TIMEOUT = 8  # seconds per Stripe call on a fan's request
STRIPE_MAX_NETWORK_RETRIES = 1
# The public origin, e.g. https://tickets.example.com: every absolute link in emails, API answers
# and embed snippets starts with it, never with a request's Host (ticketing/site.py). Required
# with DEBUG off (`check --deploy`).
SITE_URL = os.environ.get("SITE_URL") or ("http://127.0.0.1:8000" if DEVELOPMENT else "")
# Ed25519 keys that sign the tickets' QR codes, comma-separated `key-id:base64url-seed` entries
# (`manage.py new_ticket_key`): the first signs, every one verifies. Required with DEBUG off
# (`check --deploy`); without it a key derived from SECRET_KEY stands in (local runs, tests).
TICKET_SIGNING_KEYS = env_list("TICKET_SIGNING_KEYS")


def _not_an_expected_conflict(record) -> bool:
    # "Sold out" (409) is the expected answer to most buyers of an on-sale, not a warning: at
    # hundreds a second it would drown the logs (and the log bill) in the busiest minute.
    return getattr(record, "status_code", None) != 409


LOGGING.setdefault("filters", {})["not_an_expected_conflict"] = {
    "()": "django.utils.log.CallbackFilter",
    "callback": _not_an_expected_conflict,
}
LOGGING["loggers"]["django.request"] = {"level": "WARNING", "filters": ["not_an_expected_conflict"]}

# --- Anti-hoarding limits (ticketing/limits) ---------------------------------------------------
# A client is the viewer's address as CloudFront saw it (an IPv6 client: its /64). Live holds one
# client may have of one event at a time (0: no cap); each hold is capped by the ticket types'
# max_per_order already.
HOLDS_PER_CLIENT = env_int("HOLDS_PER_CLIENT", 2)
# Requests one client may make per window: (requests, seconds), counted in the cache.
RATE_LIMITS = {
    "holds": (10, 60),  # POST /api/v1/holds and the event page's hold form
    "order_lookup": (10, 600),  # /orders/lookup/ and GET /api/v1/orders/<code>
    "notify": (20, 3600),  # notify-me subscriptions
}
# The default cache holds the rate limits' counters and the waiting room's (arrivals, its status
# document): process memory, unless REDIS_URL names a Redis (ElastiCache) that all Lambda
# containers share, as production needs.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
# Back-office login lockout (django-axes): 5 wrong passwords for one user name from one address
# lock that pair out for 15 minutes (a pair, so nobody can lock a promoter out from elsewhere).
AUTHENTICATION_BACKENDS = [
    "ticketing.limits.backends.LoginLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "ticketing.limits.clients.client_address"
AXES_LOCKOUT_CALLABLE = "ticketing.limits.http.admin_lockout"
AXES_DISABLE_ACCESS_LOG = True  # failed attempts are kept (to count them), not every login
AXES_VERBOSE = False

# --- Deployment: AWS Lambda behind CloudFront (zappa_settings.json, ticketing/deploy/, infra/) ---
# CloudFront talks to API Gateway by the execute-api host name and passes the viewer's host in
# X-Forwarded-Host (the CloudFront Function in infra/cloudformation.yml): with this on, links,
# redirects and absolute URLs use the public host. ALLOWED_HOSTS still has the last word.
USE_X_FORWARDED_HOST = env_bool("USE_X_FORWARDED_HOST")

# Where `collectstatic` publishes static files for CloudFront's /static/* (set it on the machine
# that deploys; the function needs only the manifest shipped in its package, so it never calls
# S3 or imports boto3 to render a page). Hashed names, cached for a year.
STATIC_BUCKET = os.environ.get("STATIC_BUCKET", "")
if STATIC_BUCKET:
    STORAGES["staticfiles"] = {
        "BACKEND": "storages.backends.s3.S3ManifestStaticStorage",
        "OPTIONS": {
            "bucket_name": STATIC_BUCKET,
            "location": "static",
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
            "default_acl": None,  # the bucket is private; CloudFront reads it through OAC
        },
    }
