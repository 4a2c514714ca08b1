"""Rate limits per API token, shared by the REST API and the REDCap-compatible endpoint.

Requests are counted per token (by its hash: the token itself never reaches the cache), per
signed-in person for browser sessions, and per address otherwise, in the configured cache, so
every web worker sees the same counts when the cache is Redis. The limit is the `api` rate of
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]; over it, a request gets 429 with Retry-After and
the limit is never a ban: the window slides.

While the cache cannot be reached, requests go through uncounted, with a warning in the log
(registry/cache_outage.py): an outage of Redis must not take the API down with it.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from registry.cache_outage import CACHE_UNREACHABLE, cache_failed, cache_reachable
from registry.people.tokens import hash_token, looks_like_token

_UNCOUNTED = "API requests go through without being counted against the rate limit"


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self) -> str | None:
        # Read at each request, not at import, so a changed setting takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)  # type: ignore[no-any-return]

    def get_cache_key(self, request: Request, view: Any) -> str:
        if isinstance(request.auth, str) and looks_like_token(request.auth):
            return key_for_token(request.auth)
        if request.user and request.user.is_authenticated:
            # The join time keeps an account from inheriting the counts of a deleted account
            # whose primary key the database reused.
            joined = int(request.user.date_joined.timestamp() * 1_000_000)
            return f"throttle:api:user:{request.user.pk}:{joined}"
        return f"throttle:api:address:{self.get_ident(request)}"

    # (requests in the window, the oldest one's time) as the Redis script saw them.
    _window: tuple[int, float] | None = None

    def allow_key(self, key: str) -> bool:
        """Count one request against `key`; False when over the limit (see `wait`)."""
        if self.rate is None:
            return True
        self.key = key
        backend = caches["default"]
        if isinstance(backend, RedisCache):
            if not cache_reachable():
                return True
            try:
                return self._allow_in_redis(backend)
            except CACHE_UNREACHABLE as error:
                cache_failed(error, _UNCOUNTED)
                return True
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        return self.throttle_success()

    def _allow_in_redis(self, backend: RedisCache) -> bool:
        # The same sliding window as the list DRF keeps, as a sorted set changed by one script:
        # one round trip instead of a read and a write of the whole list, and no request lost
        # between the read and the write of another worker.
        self.now = now = self.timer()
        key = backend.make_key(f"{self.key}:window")
        client = backend._cache.get_client(key, write=True)
        allowed, count, oldest = _run_sliding_window(
            client,
            [key],
            [repr(now), self.duration, self.num_requests, f"{now!r}:{secrets.token_hex(4)}"],
        )
        self._window = (int(count), float(oldest) if oldest else now)
        return bool(allowed)

    def wait(self) -> float | None:
        if self._window is None:
            return super().wait()  # type: ignore[no-any-return]
        count, oldest = self._window
        available = self.num_requests - count + 1
        if available <= 0:
            return None
        return (self.duration - (self.now - oldest)) / available

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        return self.allow_key(self.get_cache_key(request, view))

    def describe(self) -> str:
        return self.rate or "unlimited"


# Drops the entries that left the window (at or before now - duration, as DRF does), then
# refuses when the window is full, or adds this request. Answers {allowed, count, oldest}.
_SLIDING_WINDOW = """
local key, now, duration, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - duration)
local count = redis.call('ZCARD', key)
if count >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return {0, count, oldest[2]}
end
redis.call('ZADD', key, now, ARGV[4])
redis.call('EXPIRE', key, math.ceil(duration))
return {1, count + 1, ''}
"""
_script: Any = None


def _run_sliding_window(client: Any, keys: list[str], args: list[Any]) -> Any:
    # The script object holds its hash: EVALSHA, sending the source only when Redis lacks it.
    global _script
    if _script is None:
        _script = client.register_script(_SLIDING_WINDOW)
    return _script(keys=keys, args=args, client=client)


class BeaconRateThrottle(TokenRateThrottle):
    """The Beacon's own limit (the `beacon` rate), counted apart from and on top of the API's:
    each query of counts tells something about the registry's patients, so a script may ask
    far fewer of them than it may make other requests."""

    scope = "beacon"

    def get_cache_key(self, request: Request, view: Any) -> str:
        return "throttle:beacon:" + super().get_cache_key(request, view).removeprefix(
            "throttle:api:"
        )


def key_for_token(token: str) -> str:
    return f"throttle:api:token:{hash_token(token)}"


def too_many_requests_message(throttle: TokenRateThrottle, wait: float | None) -> str:
    seconds = max(1, round(wait or 1))
    return (
        f"Too many requests with these credentials (the limit is {throttle.describe()}). "
        f"Try again in {seconds} second{'s' if seconds != 1 else ''}."
    )
