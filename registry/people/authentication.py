"""API token authentication, shared by the REST API and the REDCap-compatible endpoint."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from .models import ApiToken, User
from .tokens import hash_token, looks_like_token

# Recording every use would turn each API read into a write; once a minute is enough to tell
# an administrator whether a token is still in use.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def user_for_token(raw_token: str) -> User | None:
    """The active user a usable token belongs to, or None. Marks the token as used."""
    if not looks_like_token(raw_token):
        return None
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    found = list(
        User.objects.raw(
            _USER_BY_TOKEN, [adapt(now), adapt(now - LAST_USED_RESOLUTION), hash_token(raw_token)]
        )
    )
    if not found:
        return None
    user = found[0]
    # The token's answers came along with the user's columns; they are not the user's.
    token_id, usable, unmarked = (vars(user).pop(name) for name in _TOKEN_ANSWERS)
    if not usable or not user.is_active:
        return None
    if unmarked:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    return user


# Every API request starts with this query. Written out, it costs the server a quarter of the
# CPU time the ORM takes to build and compile it (bench/http.py measures the requests). The
# database compares the times (as ApiToken.is_usable does), so that what comes back needs no
# conversion on any backend. The user's columns are named, not `u.*`: a prepared statement must
# keep the columns it returns when a migration adds one.
_TOKEN_ANSWERS = ("token_id", "token_usable", "token_unmarked")
_USER_BY_TOKEN = (
    "SELECT " + ", ".join(f"u.{field.column}" for field in User._meta.concrete_fields) + ", "
    "t.id AS token_id, "
    "(t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > %s)) AS token_usable, "
    "(t.last_used_at IS NULL OR t.last_used_at < %s) AS token_unmarked "
    f"FROM {User._meta.db_table} u JOIN {ApiToken._meta.db_table} t ON t.user_id = u.id "
    "WHERE t.key_hash = %s"
)


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <32 letters and digits>`; a bad token is a 401, never a guess."""

    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[User, str] | None:
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() != self.keyword.lower():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be 'Token' followed by one token."
            )
        user = user_for_token(header[1])
        if user is None:
            raise exceptions.AuthenticationFailed("The API token is unknown, expired or revoked.")
        return user, header[1]

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
