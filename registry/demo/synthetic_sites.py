"""The sites SYN01, SYN02... that synthetic patients are spread over."""

from __future__ import annotations

from registry.people.models import Site, User
from registry.people.services import do_create_site


def synthetic_site_codes(count: int) -> list[str]:
    return [f"SYN{number:02d}" for number in range(1, count + 1)]


def ensure_synthetic_sites(actor: User | None, count: int) -> list[Site]:
    """The sites SYN01... that `generate_synthetic --sites N` spreads patients over."""
    sites = []
    for code in synthetic_site_codes(count):
        site = Site.objects.filter(code=code).first()
        if site is None:
            site = do_create_site(actor, code, f"Synthetic site {code[3:]}")
        sites.append(site)
    return sites
