"""Rate limits per API token, shared by the REST API and the REDCap-compatible endpoint.

Requests are counted per token (by its hash: the token itself never reaches the cache), per
signed-in person for browser sessions, and per address otherwise, in the configured cache, so
every web worker sees the same counts when the cache is Redis. The limit is the `api` rate of
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]; over it, a request gets 429 with Retry-After and
the limit is never a ban: the window slides.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from registry.people.tokens import hash_token, looks_like_token


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

    def allow_key(self, key: str) -> bool:
        """Count one request against `key`; False when over the limit (see `wait`)."""
        if self.rate is None:
            return True
        self.key = key
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            return self.throttle_failure()
        return self.throttle_success()

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        return self.allow_key(self.get_cache_key(request, view))

    def describe(self) -> str:
        return self.rate or "unlimited"


def key_for_token(token: str) -> str:
    return f"throttle:api:token:{hash_token(token)}"


def too_many_requests_message(throttle: TokenRateThrottle, wait: float | None) -> str:
    seconds = max(1, round(wait or 1))
    return (f"Too many requests with these credentials (the limit is {throttle.describe()}). "
            f"Try again in {seconds} second{'s' if seconds != 1 else ''}.")
