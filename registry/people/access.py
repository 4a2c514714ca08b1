"""The one place that decides which sites a user may see and change.

Every query of patient data starts from `sites_in_scope(user)` (through the selectors of the
apps that hold such data), so that a coordinator of one site can never read another's records
because a filter was forgotten.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from .models import Role, Site, User


def sites_in_scope(user: User) -> QuerySet[Site]:
    """Sites whose records `user` may read: their own sites for coordinators, all for others."""
    if not user.is_authenticated or not user.is_active:
        return Site.objects.none()
    if user.sees_all_sites:
        return Site.objects.all()
    return Site.objects.filter(memberships__user=user)


def can_enter_data(user: User, site: Site) -> bool:
    """Coordinators enter data for their own sites; admins may act for any site."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.COORDINATOR:
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
