"""Settings for the CJIS Portal, read from the environment only.

Embedded default (no environment at all): SQLite in ``var/``, Celery in eager mode,
console e-mail, DEBUG on. Production sets ``DEBUG=false`` and must then provide a real
``SECRET_KEY`` and ``ALLOWED_HOSTS``; ``DATABASE_URL`` switches to PostgreSQL and
``REDIS_URL`` to Celery workers on Redis (and the shared cache). Every variable is listed
in README.md.
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured

# Lets Django's generic classes (forms, admin) take type arguments at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=True)

# Secrets and hosts --------------------------------------------------------------------

# Used only with DEBUG on; a production start refuses it.
_DEVELOPMENT_SECRET_KEY = "django-insecure-cjis-portal-development-key-for-debug-mode-only"  # noqa: S105
_PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "insecure", "please-change-me"}


def _secret_key_problem(key: str) -> str | None:
    """Why ``key`` is not fit for production, or None when it is."""
    if not key:
        return "SECRET_KEY is not set"
    if key.startswith("django-insecure") or key.lower() in _PLACEHOLDER_SECRETS:
        return "SECRET_KEY is a development placeholder"
    if len(key) < 50 or len(set(key)) < 5:
        return "SECRET_KEY must be at least 50 characters with at least 5 distinct ones"
    return None


SECRET_KEY = env.str("SECRET_KEY", default="")
if DEBUG:
    SECRET_KEY = SECRET_KEY or _DEVELOPMENT_SECRET_KEY
elif problem := _secret_key_problem(SECRET_KEY):
    raise ImproperlyConfigured(
        f"{problem}. With DEBUG off the portal refuses to start without a real secret key: "
        "set SECRET_KEY to a random string of 50 or more characters."
    )

ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
if not DEBUG and (not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS):
    raise ImproperlyConfigured(
        "With DEBUG off ALLOWED_HOSTS must list the portal's host names (comma-separated, no '*')."
    )
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Where the embedded database, uploaded files and other local state live.
DATA_DIR = Path(env.str("DATA_DIR", default=str(BASE_DIR / "var")))

# Applications ---------------------------------------------------------------------------

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "guardian",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "portal",
    "obts",
    "ciss",
    "cuar",
    "training",
    "helpdesk",
]

MIDDLEWARE = [
    "portal.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.otp.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "portal.access.AccessMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cjis.urls"
WSGI_APPLICATION = "cjis.wsgi.application"

# Forms render through the project templates (partials/form.html), not Django's own.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

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
                "portal.context_processors.portal",
                "ciss.context_processors.inbox",
            ],
        },
    },
]

# Database -------------------------------------------------------------------------------

if "DATABASE_URL" in env:
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", 60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "cjis.sqlite3",
            "OPTIONS": {
                # One writer at a time, taken at the start of each transaction, so that
                # concurrent requests wait for each other instead of failing.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The busiest statements (the matcher's key look-up, a record's one read, the record
# cache's check) are prepared once per PostgreSQL session (portal.pg); turn off behind a
# pooler in transaction mode, where a session's statements do not follow it.
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)

# Redis: Celery broker and shared cache ---------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES: dict[str, dict[str, Any]] = {
        "default": {
            # A Redis outage is a cache miss, not an error (portal/cache.py).
            "BACKEND": "portal.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "cjis",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: see cjis/celery.py for why each of these is set.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes a worker's database connections every this many tasks;
# between, cjis/celery.py closes them as Django does around a request (CONN_MAX_AGE,
# health checks), so that a task does not open a new connection of its own.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", 1000)
# Processes per worker. Tasks mostly wait on PostgreSQL and Redis, so one per core leaves
# the cores idle meanwhile: at 50 arrest notices a second on two cores, two processes let
# deliveries fall seconds behind, four keep each inbox row within 0.2 s (bench/README.md).
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", 2 * (os.cpu_count() or 1))
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", 300)
# Longest delay any task may be scheduled with (countdown, retry backoff).
CELERY_MAX_TASK_DELAY = 3600
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A message not acknowledged within this time is handed to another worker; it must be
    # longer than any countdown or retry delay, or delayed tasks would run twice.
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", 2 * CELERY_MAX_TASK_DELAY),
    # A request that queues a task must not hang on a broker that is down: the outbox
    # sweeper queues what could not be (see ciss/exchanges/intake.py).
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# Identity, sign-in, sessions ---------------------------------------------------------------

AUTH_USER_MODEL = "portal.User"
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
GUARDIAN_ANONYMOUS_USER_NAME = None
ANONYMOUS_USER_NAME = None

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "portal.password_validation.LengthValidator",
        "OPTIONS": {"min_length": 12, "max_length": 128},
    },
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "portal.password_validation.CompromisedPasswordValidator"},
    {"NAME": "portal.password_validation.RepetitiveOrSequentialValidator"},
    {"NAME": "portal.password_validation.ContextWordsValidator"},
]
PASSWORD_MAX_AGE = timedelta(days=env.int("PASSWORD_MAX_AGE_DAYS", 365))
TEMPORARY_PASSWORD_LIFETIME = timedelta(hours=env.int("TEMPORARY_PASSWORD_HOURS", 24))
ACCOUNT_INACTIVITY_LIMIT = timedelta(days=env.int("ACCOUNT_INACTIVE_DAYS", 90))

SESSION_ENGINE = "portal.sessions"  # Django's database sessions, read in one plain statement
SESSION_COOKIE_NAME = "cjis_session"
SESSION_IDLE_TIMEOUT = timedelta(minutes=env.int("SESSION_IDLE_TIMEOUT_MINUTES", 30))
SESSION_MAX_AGE = timedelta(hours=env.int("SESSION_MAX_AGE_HOURS", 12))
SESSION_COOKIE_AGE = int(SESSION_MAX_AGE.total_seconds())
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="CJIS Portal")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
MFA_BACKUP_CODE_COUNT = 10

# Lockout after consecutive failures for a username (password or verification code); only
# the help desk or an administrator unlocks.
AXES_FAILURE_LIMIT = env.int("SIGNIN_FAILURE_LIMIT", 5)
AXES_LOCKOUT_PARAMETERS = ["username"]
# Not on the password step (that is a Django login too): only a completed sign-in resets the
# count, in portal.views.signin, or re-entering the password would clear failed codes.
AXES_RESET_ON_SUCCESS = False
AXES_COOLOFF_TIME = None
AXES_LOCKOUT_CALLABLE = "portal.views.signin.lockout_response"
AXES_CLIENT_IP_CALLABLE = "portal.network.client_ip"
AXES_VERBOSE = False
AXES_ENABLE_ADMIN = False
SILENCED_SYSTEM_CHECKS = [
    # axes warns when lockout ignores the IP address. Locking per username is the policy:
    # locking per address would lock out every officer behind an agency's shared NAT.
    "axes.W006",
]
AXES_SENSITIVE_PARAMETERS = [
    "password",
    "code",
    "current_password",
    "new_password",
    "confirm_password",
    "csrfmiddlewaretoken",
]

# Agencies' certified networks: when on, users and API clients of an agency are served
# only from the CIDRs listed on that agency.
ENFORCE_AGENCY_NETWORKS = env.bool("ENFORCE_AGENCY_NETWORKS", default=False)
# Number of reverse proxies in front of the portal that append to X-Forwarded-For.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", 0)

# Security headers ---------------------------------------------------------------------------

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
if env.bool("BEHIND_TLS_PROXY", default=not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

# Static and uploaded files ---------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
_USWDS = BASE_DIR / "node_modules" / "@uswds" / "uswds" / "dist"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("uswds/css", _USWDS / "css"),
    ("uswds/js", _USWDS / "js"),
    ("uswds/img", _USWDS / "img"),
    ("uswds/fonts", _USWDS / "fonts"),
    ("htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]
# In development whitenoise serves straight from the finders; production serves the
# collected, hashed files from STATIC_ROOT.
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "portal.static_storage.StaticFilesStorage"
            if DEBUG
            else "portal.static_storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# E-mail --------------------------------------------------------------------------------------

_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CJIS Portal <no-reply@cjis.invalid>")

# REST API ---------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["portal.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "portal.api.permissions.HasRequiredScopes",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["portal.api.throttling.ApiClientRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
# Requests per minute for one API client unless the client has its own limit.
API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", 12000)
# How often an API client's "last used" time is written, at most.
API_LAST_USED_RESOLUTION = timedelta(seconds=60)

SPECTACULAR_SETTINGS = {
    "TITLE": "CJIS Portal API",
    "DESCRIPTION": (
        "REST API of the CJIS Portal for agencies' systems. Authenticate with "
        "`Authorization: Bearer <key>`; each key belongs to one agency and carries scopes."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Locale ---------------------------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="America/New_York")
USE_I18N = True
USE_TZ = True

# Offender tracking: how far back "recently arrested" and "recently released" reach.
OBTS_RECENT_DAYS = env.int("OBTS_RECENT_DAYS", 30)
# Seconds a rendered person record stays in the cache (obts/record_cache.py); 0: never.
OBTS_RECORD_CACHE_SECONDS = env.int("OBTS_RECORD_CACHE_SECONDS", 600)

# Exchanges from records systems (ciss/exchanges/).
# Largest attachment accepted, in bytes.
CISS_ATTACHMENT_MAX_BYTES = env.int("CISS_ATTACHMENT_MAX_BYTES", 50 * 1024 * 1024)
# Arrest notices of one client that reach a web process while it accepts another are
# accepted together, this many at most (ciss/exchanges/batching.py); 1: one at a time.
CISS_INTAKE_BATCH_LIMIT = env.int("CISS_INTAKE_BATCH_LIMIT", 50)
# Delivery retries: doubling from the base, capped, this many times, then failed for the
# help desk to see.
CISS_DELIVERY_MAX_RETRIES = env.int("CISS_DELIVERY_MAX_RETRIES", 8)
CISS_DELIVERY_RETRY_BASE_SECONDS = env.int("CISS_DELIVERY_RETRY_BASE_SECONDS", 2)
CISS_DELIVERY_RETRY_CAP_SECONDS = env.int("CISS_DELIVERY_RETRY_CAP_SECONDS", 300)
# A delivery still pending this long after it was written lost its task: the sweeper
# (run every CISS_SWEEP_EVERY_SECONDS) queues it again.
CISS_SWEEP_AFTER_SECONDS = env.int("CISS_SWEEP_AFTER_SECONDS", 10)
CISS_SWEEP_EVERY_SECONDS = env.int("CISS_SWEEP_EVERY_SECONDS", 15)
# Subscriptions (ciss/subscriptions.py): how many days following something lasts, and how
# many days before it ends its follower is reminded to renew.
CISS_SUBSCRIPTION_DAYS = env.int("CISS_SUBSCRIPTION_DAYS", 365)
CISS_SUBSCRIPTION_REMINDER_DAYS = env.int("CISS_SUBSCRIPTION_REMINDER_DAYS", 14)
# The portal's address as its users reach it, for links in e-mail alerts.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

# What the pages say about the people who run the portal.
STATE_NAME = env.str("STATE_NAME", default="Connecticut")
HELP_DESK_CONTACT = env.str(
    "HELP_DESK_CONTACT", default="CJIS Help Desk, (860) 622-2000, CJIS.HelpDesk@ct.gov"
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "django.db.backends": {"level": "INFO"},
    },
}
