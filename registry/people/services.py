"""Writes about sites, people and tokens. Each one is audited in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from registry.audit.services import record_event

from .models import ApiToken, Role, Site, SiteMembership, User
from .tokens import hash_token, new_token


def do_create_site(actor: User | None, code: str, name: str) -> Site:
    code = code.strip().upper()
    name = name.strip()
    site = Site(code=code, name=name)
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["A site needs a name, for example \"Tehran University Hospital\"."]
    if Site.objects.filter(code=code).exists():
        errors["code"] = [f"A site with code {code} exists already."]
    if errors:
        raise ValidationError(errors)
    site.full_clean()
    with transaction.atomic():
        site.save()
        record_event(actor, "site.create", site, site=site, changes={"code": [None, code],
                                                                     "name": [None, name]})
    return site


def do_create_user(
    actor: User | None,
    username: str,
    role: str,
    *,
    site_codes: Sequence[str] = (),
    password: str | None = None,
    email: str = "",
) -> User:
    """Create a person with a role; coordinators must belong to at least one site."""
    username = username.strip()
    errors: dict[str, list[str]] = {}
    if not username:
        errors["username"] = ["A user name is needed."]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = [f"A user named {username} exists already."]
    if role not in Role.values:
        errors["role"] = [f"Unknown role {role!r}; choose one of: {', '.join(Role.values)}."]
    codes = [code.strip().upper() for code in site_codes]
    sites = list(Site.objects.filter(code__in=codes))
    unknown = sorted(set(codes) - {site.code for site in sites})
    if unknown:
        errors["sites"] = [f"Unknown site code(s): {', '.join(unknown)}."]
    elif role == Role.COORDINATOR and not sites:
        errors["sites"] = ["A coordinator must belong to at least one site (--site CODE)."]
    user = User(username=username, email=email, role=role)
    if password is not None:
        try:
            validate_password(password, user)
        except ValidationError as error:
            errors["password"] = list(error.messages)
    if errors:
        raise ValidationError(errors)

    # Curators and admins work in the Django admin; admins manage people there too.
    user.is_staff = role in (Role.CURATOR, Role.ADMIN)
    user.is_superuser = role == Role.ADMIN
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    with transaction.atomic():
        user.save()
        for site in sites:
            SiteMembership.objects.create(user=user, site=site)
        record_event(
            actor, "user.create", user,
            changes={"username": [None, username], "role": [None, role],
                     "sites": [None, sorted(site.code for site in sites)]},
        )
    return user


def do_create_api_token(
    actor: User | None, user: User, *, name: str = "", expires_in_days: int | None = 365
) -> tuple[ApiToken, str]:
    """Create a token for `user`; returns the record and the token, which is never stored."""
    if expires_in_days is not None and expires_in_days <= 0:
        raise ValidationError(
            {"expires_in_days": ["The expiry must be a positive number of days."]}
        )
    token = new_token()
    expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    with transaction.atomic():
        api_token = ApiToken.objects.create(
            user=user, name=name, key_hash=hash_token(token), expires_at=expires_at
        )
        record_event(actor, "api_token.create", api_token,
                     context={"owner": user.username, "expires_at": str(expires_at or "")})
    return api_token, token


def do_revoke_api_token(actor: User | None, api_token: ApiToken) -> ApiToken:
    with transaction.atomic():
        api_token.revoked_at = timezone.now()
        api_token.save(update_fields=["revoked_at"])
        record_event(
            actor, "api_token.revoke", api_token, context={"owner": api_token.user.username}
        )
    return api_token
