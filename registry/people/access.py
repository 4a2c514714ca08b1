"""The one place that decides which sites a user may see and change.

Every query of patient data starts from `sites_in_scope(user)` (through the selectors of the
apps that hold such data), so that a coordinator of one site can never read another's records
because a filter was forgotten.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from .models import Role, Site, User


def sites_in_scope(user: User) -> QuerySet[Site]:
    """Sites whose records `user` may read: their own sites for coordinators, all for others."""
    if not user.is_authenticated or not user.is_active:
        return Site.objects.none()
    if user.sees_all_sites:
        return Site.objects.all()
    return Site.objects.filter(memberships__user=user)


def in_data_entry_sites(user: User) -> Q:
    """A filter for rows (patients) whose site is one where `user` may enter data: their own
    sites for coordinators, all for admins, none for others (as `can_enter_data` decides).

    A filter through the join rather than `site__in=<sites>`: Django compiles it in two thirds
    of the time, which counts on the API's busiest path (the patient of every create).
    """
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.role == Role.ADMIN:
        return Q()
    if user.role == Role.COORDINATOR:
        return Q(site__memberships__user=user)
    return Q(pk__in=[])


# The sites a query filtered by `in_data_entry_sites` has just shown `user` may enter data
# for, kept on that user object, which lives for one request: the service that writes need not
# ask the database the same question again within the request.
_ENTRY_SITES = "_registry_data_entry_sites"


def note_data_entry(user: User, site: Site) -> None:
    """Record that a query filtered by `in_data_entry_sites(user)` found `site`."""
    user.__dict__.setdefault(_ENTRY_SITES, set()).add(site.pk)


def can_enter_data(user: User, site: Site) -> bool:
    """Coordinators enter data for their own sites; admins may act for any site."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.COORDINATOR:
        if site.pk in user.__dict__.get(_ENTRY_SITES, ()):
            return True
        return user.memberships.filter(site=site).exists()
    return False


def require_data_entry(user: User, site: Site) -> None:
    if not can_enter_data(user, site):
        raise PermissionDenied(f"{user} may not enter data for site {site.code}.")


def can_curate(user: User) -> bool:
    """Curators review, verify, lock and query data at every site; admins may do the same."""
    return bool(
        user.is_authenticated and user.is_active and user.role in (Role.CURATOR, Role.ADMIN)
    )


def require_curation(user: User) -> None:
    if not can_curate(user):
        raise PermissionDenied(f"{user} is not a curator.")
