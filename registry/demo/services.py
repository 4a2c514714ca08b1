"""The demo registry of `make run`: two sites, one person per role, and the index cases.

Everything here is synthetic or taken from the published case report. Loading twice changes
nothing: what exists is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.db import transaction

from registry.patients.services import do_enrol_patient
from registry.people.models import Role, Site, User
from registry.people.services import do_create_site, do_create_user

DEMO_PASSWORD = "registry-demo"
INDEX_CASES_FILE = Path(settings.BASE_DIR) / "forms" / "fixtures" / "index_cases.yaml"

DEMO_SITES = [
    ("TUMS", "Demo site: Children's Medical Centre"),
    ("NORTH", "Demo site: Northern University Hospital"),
]
DEMO_USERS: list[tuple[str, str, list[str]]] = [
    ("nurse", Role.COORDINATOR, ["TUMS"]),
    ("nurse_north", Role.COORDINATOR, ["NORTH"]),
    ("curator", Role.CURATOR, []),
    ("researcher", Role.RESEARCHER, []),
    ("admin", Role.ADMIN, []),
]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    sites: list[str]


def load_index_cases() -> list[dict[str, Any]]:
    with INDEX_CASES_FILE.open(encoding="utf-8") as handle:
        return list(yaml.safe_load(handle))


@transaction.atomic
def do_load_demo() -> list[DemoLogin]:
    for code, name in DEMO_SITES:
        if not Site.objects.filter(code=code).exists():
            do_create_site(None, code, name)
    for username, role, sites in DEMO_USERS:
        if not User.objects.filter(username=username).exists():
            do_create_user(None, username, role, site_codes=sites, password=DEMO_PASSWORD)

    nurse = User.objects.get(username="nurse")
    home_site = Site.objects.get(code="TUMS")
    for case in load_index_cases():
        do_enrol_patient(
            nurse, home_site, local_id=case["local_id"], sex=case["sex"],
            year_of_birth=case["year_of_birth"],
        )
    return [DemoLogin(username, role, sites) for username, role, sites in DEMO_USERS]
