"""A real deployment: refuses to start on the public demo keys, and locks the browser down."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    DATABASES,
    INSECURE_PSEUDONYM_KEY,
    INSECURE_SECRET_KEY,
    OTP_REQUIRED_ROLES,
    STATIC_ROOT,
    env,
)


def _require_real_key(name: str, value: str, insecure_default: str) -> str:
    if not value or value == insecure_default:
        raise ImproperlyConfigured(
            f"{name} is not set. A production registry needs its own secret value: "
            f"set {name} in the environment to a long random string (50 characters or more)."
        )
    if len(value) < 50:
        raise ImproperlyConfigured(
            f"{name} is too short ({len(value)} characters); use 50 characters or more."
        )
    return value


SECRET_KEY = _require_real_key("SECRET_KEY", env.str("SECRET_KEY", ""), INSECURE_SECRET_KEY)
REGISTRY_PSEUDONYM_KEY = _require_real_key(
    "REGISTRY_PSEUDONYM_KEY", env.str("REGISTRY_PSEUDONYM_KEY", ""), INSECURE_PSEUDONYM_KEY
)

DEBUG = False
# Keep each worker's database connection between requests: opening one costs PostgreSQL a new
# backend process and an authentication, more than a typical request's queries together.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Collected once (docker/collectstatic.sh) with hashed names and a manifest: a page names the
# hashed file, so browsers may keep it for ever. Without the manifest every page answers 500.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(STATIC_ROOT)))

# Behind a TLS-terminating proxy; it must set X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# Curators and administrators see every site's records: their second factor is never off here.
if not {"curator", "admin"} <= set(OTP_REQUIRED_ROLES):
    raise ImproperlyConfigured(
        "OTP_REQUIRED_ROLES must include curator and admin in production (it is "
        f"{','.join(OTP_REQUIRED_ROLES) or 'empty'}): unset it to keep the default."
    )
X_FRAME_OPTIONS = "DENY"
