"""API token authentication, shared by the REST API and the REDCap-compatible endpoint."""

from __future__ import annotations

from datetime import timedelta

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
    token = (
        ApiToken.objects.select_related("user").filter(key_hash=hash_token(raw_token)).first()
    )
    now = timezone.now()
    if token is None or not token.is_usable(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


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
