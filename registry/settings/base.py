"""Settings shared by every way of running the registry, read from the environment.

Only what differs between a laptop demo, the test suite and a hospital deployment lives in the
modules that import this one; everything here is safe anywhere.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

from registry.people.addresses import trusted_proxies

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

# Fixed, public values for the demo and the tests. Production refuses to start with them.
INSECURE_SECRET_KEY = "insecure-demo-secret-key-do-not-use-in-production"
INSECURE_PSEUDONYM_KEY = "insecure-demo-pseudonym-key-do-not-use-in-production"

SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_SECRET_KEY)
# Keys the HMAC that turns a site's local hospital ID into a pseudonym. Losing it means
# re-enrolments can no longer be recognised; leaking it lets anyone who knows a local ID find
# the patient's record. It lives in the environment, never in the database.
REGISTRY_PSEUDONYM_KEY = env.str("REGISTRY_PSEUDONYM_KEY", default=INSECURE_PSEUDONYM_KEY)

DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Django's admin on the registry's own site: it opens only to curators and administrators
    # who have passed both steps of signing in (registry/people/admin_site.py).
    "registry.people.admin_apps.RegistryAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "registry.people",
    "registry.audit",
    "registry.patients",
    "registry.crfs",
    "registry.submissions",
    "registry.curation",
    "registry.quality",
    "registry.statistics",
    "registry.jobs",
    "registry.api",
    "registry.exchange",
    "registry.web",
    "registry.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise (static files keep their long cache), before everything that answers.
    "registry.no_store.NoStoreMiddleware",
    # Every query of patient data from here on runs in the scope of the person asking
    # (registry/people/scoping.py), including what the middleware below does.
    "registry.people.scoping.ScopeMiddleware",
    # Early, so that answers made by the middleware below (a 503, CommonMiddleware's redirects)
    # carry the Content Security Policy and the other headers too.
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "registry.security_headers.SecurityHeadersMiddleware",
    "registry.audit.middleware.RequestIdMiddleware",
    "registry.web.middleware.RefuseNulCharactersMiddleware",
    # A 503 with Retry-After, never a 500, while the database cannot be reached.
    "registry.database_unavailable.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Before django-otp's middleware: a session idle too long is closed before anyone asks
    # whether it passed its second step.
    "registry.people.middleware.SessionTimeoutMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Curators and administrators (and anyone who enrolled a device) give their code before
    # any page opens (registry/people/two_factor.py).
    "registry.people.middleware.TwoFactorMiddleware",
    # Last, as django-axes asks: it locks out repeated failed logins.
    "axes.middleware.AxesMiddleware",
]

# What a page may load and run (docs/security.md): only the registry's own files. No inline
# script, no inline style, no style or on* attribute anywhere; JSON read by a script travels in
# data- attributes. Nothing may frame a page, and forms post only back to the registry.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}
# The other headers a page carries (SecurityMiddleware, XFrameOptionsMiddleware and
# registry/security_headers.py); HSTS is set in production only (production.py).
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No page uses any of these browser features; a script that got in could not either.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# The addresses the TLS proxy connects from. Only a request from one of them has its
# X-Forwarded-For believed (registry/people/addresses.py); gunicorn trusts the same ones
# (docker/gunicorn.conf.py). None by default: the header is ignored.
TRUSTED_PROXIES = trusted_proxies(env.list("TRUSTED_PROXIES", default=[]))
AXES_CLIENT_IP_CALLABLE = "registry.people.addresses.client_address"
# Lock a user name, from wherever it is tried, after 5 wrong passwords, for 30 minutes from the
# one that locked it; attempts made while it is locked are not counted and do not prolong it.
# Why, and what an attacker can still do: docs/security.md.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "registry.people.lockout.locked_out_response"
# django-axes warns when the lock does not count per address. Ours counts a user name's failures
# from every address and browser together, so rotating them gains nothing; a count per address
# would lock everyone behind one hospital's network address together.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

ROOT_URLCONF = "registry.urls"
WSGI_APPLICATION = "registry.wsgi.application"
AUTH_USER_MODEL = "people.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# A session ends after SESSION_IDLE_TIMEOUT_SECONDS without a request, and SESSION_COOKIE_AGE
# after signing in however busy it is (registry/people/sessions.py, docs/security.md).
SESSION_IDLE_TIMEOUT_SECONDS = env.int("SESSION_IDLE_TIMEOUT_SECONDS", default=30 * 60)
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)

# Two-factor sign-in (django-otp): these roles must enrol an authenticator app and give its
# code after their password; anyone else may enrol one, and is then asked for it too.
# Production refuses to start without curators and administrators among them.
OTP_REQUIRED_ROLES = env.list("OTP_REQUIRED_ROLES", default=["curator", "admin"])
OTP_TOTP_ISSUER = "Mirror movements registry"
# Each wrong code doubles the wait before the next try (1, 2, 4 ... seconds), per device.
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
# Device keys and recovery codes are never shown in the admin.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

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

# The role the web server and the workers connect as. On PostgreSQL it should not own the
# tables: migrations run as the owner (DATABASE_OWNER_URL, read only by docker/entrypoint.sh),
# and `manage.py grant_app_role` lets this role add to the audit trail but not change or empty
# it (docs/deployment.md).
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'registry.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several gunicorn workers or a Celery worker may share the file: wait for locks rather
    # than fail, and take the write lock at the start of a transaction.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
    "DATABASE_PREPARED_STATEMENTS", default=True
):
    # Parameters travel apart from the SQL, and a statement that a connection has run five
    # times is prepared: PostgreSQL then parses and plans it once. That halved its CPU time per
    # API create (BENCHMARKS.md). Behind PgBouncer in transaction mode, which cannot keep a
    # connection's prepared statements, set DATABASE_PREPARED_STATEMENTS=false.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": 5}
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")

# Fail fast: while Redis is down or does not answer, requests go on without the cache
# (registry/cache_outage.py), so finding that out must cost little. A healthy Redis answers in
# well under a millisecond.
REDIS_CACHE_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: with no broker configured, tasks run in-process so one laptop needs nothing else.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Runs record their own outcome (JobRun), so no task's result is stored: the web process then
# never subscribes to results in Redis (whose client retried for 19 s when Redis was down).
CELERY_TASK_IGNORE_RESULT = True
# Starting a job gives up on a Redis that is down or unreachable within about a second, and on
# one that accepts connections but does not answer within about four (one retry each); the run
# is recorded failed and the person told so, instead of a web request waiting for ever. The
# read timeout stays above the worker's 1-second wait for messages (BRPOP).
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 2}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# The nightly runs (registry/jobs/tasks.py): statistics, then the incremental quality checks;
# every minute, the sweep of runs whose worker died or whose message was lost.
CELERY_BEAT_SCHEDULE = {
    "nightly-statistics": {
        "task": "registry.jobs.nightly_statistics",
        "schedule": crontab(hour=2, minute=0),
    },
    "nightly-quality-checks": {
        "task": "registry.jobs.nightly_quality_checks",
        "schedule": crontab(hour=2, minute=30),
    },
    "fail-stale-runs": {
        "task": "registry.jobs.fail_stale_runs",
        "schedule": 60.0,
    },
}
# A worker renews the heartbeat of the run it is doing every JOB_HEARTBEAT_SECONDS (and writes
# its progress then). A running run whose heartbeat is older than JOB_STALE_AFTER_SECONDS is
# shown as failed (its worker died) and may be re-run; a run still queued after
# JOB_QUEUED_STALE_AFTER_SECONDS is failed too (its message was lost, or no worker runs).
JOB_HEARTBEAT_SECONDS = env.float("JOB_HEARTBEAT_SECONDS", default=5.0)
JOB_STALE_AFTER_SECONDS = env.float("JOB_STALE_AFTER_SECONDS", default=60.0)
JOB_QUEUED_STALE_AFTER_SECONDS = env.float("JOB_QUEUED_STALE_AFTER_SECONDS", default=1800.0)

# Aggregate figures shown to researchers hide any count below this (DESIGN.md, privacy rule 3).
STATS_SUPPRESSION_THRESHOLD = env.int("STATS_SUPPRESSION_THRESHOLD", default=5)
# Custom data-quality rules written in the form engine's logic language.
QUALITY_RULES_FILE = BASE_DIR / "forms" / "quality_rules.yaml"
# Which forms and fields the clinical statistics tables read (docs/statistics.md).
STATISTICS_FILE = BASE_DIR / "forms" / "statistics.yaml"
# The Beacon v2 endpoint (docs/beacon.md): how it names itself to a network, and the field
# (form.field, in months) its `age` filter reads.
BEACON_ID = env.str("BEACON_ID", default="org.example.mirror-movements-registry")
BEACON_NAME = env.str("BEACON_NAME", default="Mirror movements registry")
BEACON_ORGANIZATION = env.str("BEACON_ORGANIZATION", default="Mirror movements registry")
BEACON_ENVIRONMENT = env.str("BEACON_ENVIRONMENT", default="dev")
BEACON_AGE_FIELD = "enrollment.enrol_age_months"
# A full quality run on PostgreSQL of at least this many patients is split by patient over this
# many processes (forked by the worker running it; 1: never split).
QUALITY_PROCESSES = env.int("QUALITY_PROCESSES", default=os.cpu_count() or 1)
QUALITY_PARALLEL_FROM_PATIENTS = env.int("QUALITY_PARALLEL_FROM_PATIENTS", default=2000)

# Every password set anywhere (create_user, the admin, the password-change page) passes these.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # "Registry2024", "Password1!": a common word or the registry's name with digits added.
    {"NAME": "registry.people.passwords.GuessableWordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # The browser's logic evaluator lives with the form engine; served as formengine/logic.js.
    ("formengine", BASE_DIR / "registry" / "formengine" / "js"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# The largest body a page or the REST API reads (a 413 above it; docs/api.md): a bulk request of
# 1000 submissions with long notes fits. The REDCap import reads its own, larger, bodies.
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024

REST_FRAMEWORK = {
    # JSON with its depth, strings, surrogates and NULs checked: a 400 naming the field.
    "DEFAULT_PARSER_CLASSES": [
        "registry.rest.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "registry.rest.openapi.RegistryAutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "registry.people.authentication.ApiTokenAuthentication",
        # A browser session counts only once its second step is passed, where one is due.
        "registry.people.two_factor.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Per token (or signed-in person): a clear 429 with Retry-After, counted in the cache.
    "DEFAULT_THROTTLE_CLASSES": ["registry.rest.throttling.TokenRateThrottle"],
    # The Beacon's queries have a tighter limit of their own, within the API's.
    "DEFAULT_THROTTLE_RATES": {
        "api": env.str("API_RATE_LIMIT", default="600/minute"),
        "beacon": env.str("BEACON_RATE_LIMIT", default="60/minute"),
    },
    "EXCEPTION_HANDLER": "registry.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Mirror movements registry API",
    "VERSION": "1",
    # The schema describes the API, not the page serving it.
    "SERVE_INCLUDE_SCHEMA": False,
    # Request bodies apart from answers: read-only fields are left out of what clients send,
    # and a text field that may not be blank says so (minLength 1).
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a `status`; name each choice set after its model.
    # The docs page's script comes from the registry itself (drf-spectacular-sidecar), not a
    # CDN: hospitals may have no internet, and the Content Security Policy allows only 'self'.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "SubmissionStatusEnum": "registry.submissions.models.Status",
        "DataQueryStatusEnum": "registry.curation.models.QueryStatus",
        "JobStatusEnum": "registry.jobs.models.JobStatus",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # django-axes announces itself at every start; its lockouts are warnings and still show.
    "loggers": {"axes": {"level": "WARNING"}},
}
