"""The demo registry of `make run`: two sites, one person per role, the index cases, and a few
dozen synthetic patients (registry/demo/synthetic.py) so that the statistics and the quality
checks have something to show.

The forms must be published first (`manage.py sync_forms`).

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

from registry.crfs.models import FormVersion
from registry.demo.synthetic import do_generate_synthetic
from registry.patients.models import Patient
from registry.patients.services import do_enrol_patient
from registry.people.models import Role, Site, User
from registry.people.services import do_create_site, do_create_user
from registry.submissions.models import Submission
from registry.submissions.services import do_save_submission

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


def _enter_submission(nurse: User, patient: Patient, entry: dict[str, Any]) -> None:
    """Enter one case-report form the way a coordinator would, through the same validation."""
    if Submission.objects.filter(
        patient=patient, form__name=entry["form"], instance=entry["instance"]
    ).exists():
        return
    version = FormVersion.objects.get(form__name=entry["form"], number=entry["version"])
    do_save_submission(
        nurse,
        patient,
        version,
        entry["data"],
        status=entry["status"],
        instance=entry["instance"],
    )


# The synthetic patients of the demo: always the same ones (fixed seed), spread over both sites.
DEMO_SYNTHETIC_PATIENTS = 60
DEMO_SYNTHETIC_SEED = 2024
# Years of birth are counted back from this year, so the demo is the same whenever it is loaded.
DEMO_SYNTHETIC_YEAR = 2025


@transaction.atomic
def do_load_demo(*, synthetic_patients: int = DEMO_SYNTHETIC_PATIENTS) -> list[DemoLogin]:
    for code, name in DEMO_SITES:
        if not Site.objects.filter(code=code).exists():
            do_create_site(None, code, name)
    for username, role, sites in DEMO_USERS:
        if not User.objects.filter(username=username).exists():
            do_create_user(None, username, role, site_codes=sites, password=DEMO_PASSWORD)

    nurse = User.objects.get(username="nurse")
    home_site = Site.objects.get(code="TUMS")
    for case in load_index_cases():
        patient = do_enrol_patient(
            nurse,
            home_site,
            local_id=case["local_id"],
            sex=case["sex"],
            year_of_birth=case["year_of_birth"],
        ).patient
        for entry in case.get("submissions", []):
            _enter_submission(nurse, patient, entry)
    if synthetic_patients:
        demo_sites = list(Site.objects.filter(code__in=[code for code, _ in DEMO_SITES]))
        do_generate_synthetic(
            None,
            demo_sites,
            patients=synthetic_patients,
            seed=DEMO_SYNTHETIC_SEED,
            reference_year=DEMO_SYNTHETIC_YEAR,
        )
    return [DemoLogin(username, role, sites) for username, role, sites in DEMO_USERS]
