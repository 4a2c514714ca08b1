"""Writes about sites, people and tokens. Each one is audited in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from registry.audit.actions import Action
from registry.audit.services import diff, record_event

from .models import ApiToken, Role, Site, SiteMembership, User
from .tokens import hash_token, new_token


def do_create_site(actor: User | None, code: str, name: str, *, via: str = "") -> Site:
    code = code.strip().upper()
    name = name.strip()
    site = Site(code=code, name=name)
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ['A site needs a name, for example "Tehran University Hospital".']
    if Site.objects.filter(code=code).exists():
        errors["code"] = [f"A site with code {code} exists already."]
    if errors:
        raise ValidationError(errors)
    site.full_clean()
    with transaction.atomic():
        site.save()
        record_event(
            actor,
            Action.SITE_CREATE,
            site,
            site=site,
            changes={"code": [None, code], "name": [None, name]},
            context=_via(via),
        )
    return site


def do_update_site(actor: User | None, site: Site, *, name: str, via: str = "") -> Site:
    """Rename a site. Its code never changes: every pseudonym of its patients begins with it."""
    name = name.strip()
    if not name:
        raise ValidationError(
            {"name": ['A site needs a name, for example "Tehran University Hospital".']}
        )
    before = {"name": site.name}
    with transaction.atomic():
        site.name = name
        site.full_clean()
        site.save(update_fields=["name"])
        changes = diff(before, {"name": name})
        if changes:
            record_event(
                actor, Action.SITE_UPDATE, site, site=site, changes=changes, context=_via(via)
            )
    return site


def _via(via: str) -> dict[str, str]:
    """The door a write came through, when it is not the service's usual one (`admin`)."""
    return {"via": via} if via else {}


def do_set_password(actor: User | None, user: User, password: str | None, *, via: str = "") -> None:
    """Set someone's password, or with None turn password sign-in off for them; audited as
    their own change or as someone else's, never with the password."""
    if password is None:
        user.set_unusable_password()
    else:
        validate_password(password, user)
        user.set_password(password)
    with transaction.atomic():
        user.save(update_fields=["password"])
        own = actor is not None and actor.pk == user.pk
        record_event(
            actor,
            Action.PASSWORD_CHANGE if own else Action.PASSWORD_SET,
            user,
            context={**_via(via), "usable": password is not None},
        )


def do_create_user(
    actor: User | None,
    username: str,
    role: str,
    *,
    site_codes: Sequence[str] = (),
    password: str | None = None,
    email: str = "",
    via: str = "",
) -> User:
    """Create a person with a role; coordinators must belong to at least one site."""
    username = username.strip()
    errors: dict[str, list[str]] = {}
    if not username:
        errors["username"] = ["A user name is needed."]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = [f"A user named {username} exists already."]
    sites = _role_and_sites_problems(role, site_codes, errors)
    user = User(username=username, email=email, role=role)
    if password is not None:
        try:
            validate_password(password, user)
        except ValidationError as error:
            errors["password"] = list(error.messages)
    if errors:
        raise ValidationError(errors)

    _follow_role(user)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    with transaction.atomic():
        user.save()
        for site in sites:
            SiteMembership.objects.create(user=user, site=site)
        record_event(
            actor,
            Action.USER_CREATE,
            user,
            changes={
                "username": [None, username],
                "role": [None, role],
                "sites": [None, sorted(site.code for site in sites)],
            },
            context=_via(via),
        )
    return user


def role_and_sites_problems(
    role: str,
    site_codes: Sequence[str],
    *,
    actor: User | None = None,
    user: User | None = None,
    is_active: bool = True,
) -> dict[str, list[str]]:
    """What is wrong with giving a person (`user`, or a new one) `role` at `site_codes`, as
    `actor` (empty when nothing is), for forms that show problems beside their fields before
    anything is saved. do_create_user and do_update_user apply the same rules."""
    errors: dict[str, list[str]] = {}
    _role_and_sites_problems(role, site_codes, errors)
    if user is not None:
        _own_account_problems(actor, user, role, is_active, errors)
    return errors


def _own_account_problems(
    actor: User | None, user: User, role: str, is_active: bool, errors: dict[str, list[str]]
) -> None:
    if actor is None or actor.pk != user.pk:
        return
    if role != user.role and user.role == Role.ADMIN:
        errors["role"] = [
            "You cannot take away your own administrator role; ask another administrator."
        ]
    if not is_active:
        errors["is_active"] = ["You cannot turn off your own access."]


def _role_and_sites_problems(
    role: str, site_codes: Sequence[str], errors: dict[str, list[str]]
) -> list[Site]:
    if role not in Role.values:
        errors["role"] = [f"Unknown role {role!r}; choose one of: {', '.join(Role.values)}."]
    codes = [code.strip().upper() for code in site_codes]
    sites = list(Site.objects.filter(code__in=codes))
    unknown = sorted(set(codes) - {site.code for site in sites})
    if unknown:
        errors["sites"] = [f"Unknown site code(s): {', '.join(unknown)}."]
    elif role == Role.COORDINATOR and not sites:
        errors["sites"] = ["A coordinator must belong to at least one site."]
    return sites


def _follow_role(user: User) -> None:
    # Curators and admins work in the Django admin; admins manage people there too. The role
    # decides; Django's flags follow it and are never set by hand.
    user.is_staff = user.role in (Role.CURATOR, Role.ADMIN)
    user.is_superuser = user.role == Role.ADMIN


_PERSON_FIELDS = ("first_name", "last_name", "email", "role", "is_active")


def do_update_user(
    actor: User | None, user: User, *, site_codes: Sequence[str], via: str = "", **values: Any
) -> User:
    """Change a person's details (first_name, last_name, email), role, access (is_active) and
    sites. A coordinator keeps at least one site; nobody takes away their own administrator
    role or access, which could leave the registry without one."""
    unknown = sorted(set(values) - set(_PERSON_FIELDS))
    if unknown:
        raise TypeError(f"do_update_user() got unexpected fields {unknown}")
    wanted = {name: values.get(name, getattr(user, name)) for name in _PERSON_FIELDS}
    errors: dict[str, list[str]] = {}
    sites = _role_and_sites_problems(wanted["role"], site_codes, errors)
    _own_account_problems(actor, user, wanted["role"], wanted["is_active"], errors)
    if errors:
        raise ValidationError(errors)
    before = {name: getattr(user, name) for name in _PERSON_FIELDS}
    before["sites"] = sorted(user.sites.values_list("code", flat=True))
    after = {**wanted, "sites": sorted(site.code for site in sites)}
    with transaction.atomic():
        for name, value in wanted.items():
            setattr(user, name, value)
        _follow_role(user)
        user.full_clean(exclude=["password"])
        user.save(update_fields=[*_PERSON_FIELDS, "is_staff", "is_superuser"])
        kept = {site.pk for site in sites}
        SiteMembership.objects.filter(user=user).exclude(site_id__in=kept).delete()
        present = set(SiteMembership.objects.filter(user=user).values_list("site_id", flat=True))
        SiteMembership.objects.bulk_create(
            [SiteMembership(user=user, site=site) for site in sites if site.pk not in present]
        )
        changes = diff(before, after)
        if changes:
            record_event(actor, Action.USER_UPDATE, user, changes=changes, context=_via(via))
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
        record_event(
            actor,
            Action.API_TOKEN_CREATE,
            api_token,
            context={"owner": user.username, "expires_at": str(expires_at or "")},
        )
    return api_token, token


def do_update_api_token(
    actor: User | None,
    api_token: ApiToken,
    *,
    name: str,
    expires_at: datetime | None,
    via: str = "",
) -> ApiToken:
    """Rename a token or give it another expiry (never the token itself, which is not kept)."""
    before = {"name": api_token.name, "expires_at": _shown_time(api_token.expires_at)}
    with transaction.atomic():
        api_token.name = name.strip()
        api_token.expires_at = expires_at
        api_token.full_clean(exclude=["key_hash"])
        api_token.save(update_fields=["name", "expires_at"])
        changes = diff(before, {"name": api_token.name, "expires_at": _shown_time(expires_at)})
        if changes:
            record_event(
                actor,
                Action.API_TOKEN_UPDATE,
                api_token,
                changes=changes,
                context={"owner": api_token.user.username, **_via(via)},
            )
    return api_token


def _shown_time(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def do_revoke_api_token(actor: User | None, api_token: ApiToken, *, via: str = "") -> ApiToken:
    with transaction.atomic():
        api_token.revoked_at = timezone.now()
        api_token.save(update_fields=["revoked_at"])
        record_event(
            actor,
            Action.API_TOKEN_REVOKE,
            api_token,
            context={"owner": api_token.user.username, **_via(via)},
        )
    return api_token
