"""Going on without the shared cache (Redis in production) while it cannot be reached.

The cache holds only what makes the registry fairer (the API's request counts), never what a
request needs to be answered right, so a Redis outage must cost neither an error nor a stalled
request. Code that uses the cache asks `cache_reachable()` first, catches `CACHE_UNREACHABLE`,
calls `cache_failed()` and goes on without it.

After a failure the process leaves the cache alone for `RETRY_AFTER_SECONDS`: a Redis that
accepts connections but never answers would otherwise cost every request its socket timeout.
Each consequence is logged as a warning at most once per `WARNING_INTERVAL_SECONDS`, so an
outage does not flood the log.
"""

from __future__ import annotations

import logging
import time

import redis
from django.core.signals import setting_changed
from django.dispatch import receiver

logger = logging.getLogger(__name__)

# What the Redis client raises when the server is down, unreachable, still loading its data
# or slower than the socket timeout of CACHES["default"]["OPTIONS"].
CACHE_UNREACHABLE: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)

RETRY_AFTER_SECONDS = 5.0
WARNING_INTERVAL_SECONDS = 60.0

_failed_at: float | None = None
_warned_at: dict[str, float] = {}


def cache_reachable() -> bool:
    """False for a few seconds after the cache last failed in this process."""
    return _failed_at is None or time.monotonic() - _failed_at >= RETRY_AFTER_SECONDS


def cache_failed(error: Exception, consequence: str) -> None:
    """Record that the cache just failed with `error`; `consequence` says what goes on
    without it (one warning per consequence and interval)."""
    global _failed_at
    now = _failed_at = time.monotonic()
    warned = _warned_at.get(consequence)
    if warned is not None and now - warned < WARNING_INTERVAL_SECONDS:
        return
    _warned_at[consequence] = now
    logger.warning(
        "The cache (Redis) cannot be reached (%s): %s. Trying again in %g seconds; this "
        "warning repeats at most every %g seconds while the outage lasts.",
        error,
        consequence,
        RETRY_AFTER_SECONDS,
        WARNING_INTERVAL_SECONDS,
    )


def forget_cache_failures() -> None:
    """Try the cache at its next use, and warn again at its next failure."""
    global _failed_at
    _failed_at = None
    _warned_at.clear()


@receiver(setting_changed)
def _another_cache(setting: str, **kwargs: object) -> None:
    # Tests point CACHES elsewhere: an outage of the old cache says nothing about the new one.
    if setting == "CACHES":
        forget_cache_failures()
