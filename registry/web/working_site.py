"""The site a person is working in, remembered in their session.

A coordinator of one site always works there. A coordinator of several sites, a curator or an
admin picks one; the choice lasts until they pick another or log out. The session holds only the
site's id, and it is checked against the access layer on every request, so a stale or forged
value never widens what anyone sees.
"""

from __future__ import annotations

from django.http import HttpRequest

from registry.people.access import sites_in_scope
from registry.people.models import Site, User

SESSION_KEY = "web_site_id"


def sites_to_choose_from(user: User) -> list[Site]:
    return list(sites_in_scope(user).order_by("code"))


def working_site(request: HttpRequest, sites: list[Site] | None = None) -> Site | None:
    """The chosen site if it is still in scope; the only site if there is one; else None."""
    sites = sites_to_choose_from(request.user) if sites is None else sites
    chosen = request.session.get(SESSION_KEY)
    for site in sites:
        if site.pk == chosen:
            return site
    return sites[0] if len(sites) == 1 else None


def remember_site(request: HttpRequest, site: Site) -> None:
    request.session[SESSION_KEY] = site.pk
