"""The address a request came from, as the lockout's records and the audit trail keep it.

Behind the TLS proxy every request's REMOTE_ADDR is the proxy's own; the proxy appends the
address it was connected from to X-Forwarded-For. Anyone can send that header too, so it is
believed only as far as trusted proxies wrote it: read from the right, a hop appended by a
trusted proxy (TRUSTED_PROXIES) names whoever connected to it, and the first address that is not
a trusted proxy is the client. With no trusted proxy configured the header is ignored. A count of
proxies would not do: it would believe the header from anyone who reaches gunicorn directly.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _normalised(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def trusted_proxies(configured: list[str]) -> list[str]:
    """The TRUSTED_PROXIES setting, each one checked and written the standard way."""
    addresses = []
    for entry in configured:
        address = _normalised(entry)
        if address is None:
            raise ValueError(
                f"TRUSTED_PROXIES: {entry.strip()!r} is not an IP address; list the addresses "
                "the TLS proxy connects from, separated by commas (for example 10.0.0.2)."
            )
        addresses.append(address)
    return addresses


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind a trusted proxy the address it forwarded."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    address = _normalised(remote)
    if address is None:
        return remote
    trusted = set(settings.TRUSTED_PROXIES)
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    while address in trusted and hops:
        forwarded = _normalised(hops.pop())
        if forwarded is None:
            # Not what a proxy writes: keep the last address known to be true.
            break
        address = forwarded
    return address
