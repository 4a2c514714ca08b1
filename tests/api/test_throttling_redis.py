"""The throttle's one-round-trip path on Redis: the same limits and answers as with any cache."""

from __future__ import annotations

import os
import secrets

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

from registry.rest.throttling import TokenRateThrottle, key_for_token
from tests.factories import api_token_for

pytestmark = pytest.mark.django_db

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_cache(settings):
    if not _redis_reachable():
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"test-{secrets.token_hex(6)}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "2/minute"},
    }
    yield caches["default"]
    client = caches["default"]._cache.get_client(write=True)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def test_a_token_over_its_rate_in_redis_gets_429_with_retry_after(
    redis_cache, coordinator_a, registry_forms
):
    token = api_token_for(coordinator_a)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert [client.get("/api/v1/forms/").status_code for _ in range(2)] == [200, 200]
    refused = client.get("/api/v1/forms/")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(coordinator_a)}")
    assert other.get("/api/v1/forms/").status_code == 200


def test_the_redis_window_slides(redis_cache):
    throttle = TokenRateThrottle()
    key = key_for_token("a" * 32)
    start = 1_000_000.0
    throttle.timer = lambda: start  # type: ignore[method-assign]
    assert [throttle.allow_key(key) for _ in range(3)] == [True, True, False]
    # Both requests are 60 s old at the refusal 30 s later: each frees its place at 60 s.
    throttle.timer = lambda: start + 30  # type: ignore[method-assign]
    assert throttle.allow_key(key) is False
    assert throttle.wait() == pytest.approx(30.0)
    throttle.timer = lambda: start + 60  # type: ignore[method-assign]
    assert throttle.allow_key(key) is True
