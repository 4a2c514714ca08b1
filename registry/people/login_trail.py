"""Logins, failed logins and logouts land in the audit trail, whichever way in they came.

Here rather than in the audit app: the signals are about people, and the audit app sits below
people (it knows nothing of users but their primary key and name)."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from registry.audit.services import record_event

from .addresses import client_address
from .models import User


def _client_address(request: HttpRequest | None) -> str:
    # The client's, not the TLS proxy's: the same address the lockout's records keep.
    return client_address(request) if request is not None else ""


@receiver(user_logged_in)
def audit_login(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    record_event(user, "login", user, context={"address": _client_address(request)})


@receiver(user_logged_out)
def audit_logout(
    sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any
) -> None:
    # Django sends this for an anonymous visitor too (user None): nobody logged out.
    if user is not None:
        # An ended session says why (registry/people/sessions.py): "idle" or "expired".
        reason = getattr(request, "logout_reason", None)
        record_event(
            user,
            "logout",
            user,
            context={"address": _client_address(request), **({"reason": reason} if reason else {})},
        )


@receiver(user_login_failed)
def audit_failed_login(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Django has already masked the password in `credentials`; keep only the name typed.
    record_event(
        None,
        "login_failed",
        context={
            "username": str(credentials.get("username", ""))[:150],
            "address": _client_address(request),
        },
    )
