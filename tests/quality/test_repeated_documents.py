"""Identical documents are checked once per run; what is remembered never changes findings."""

from __future__ import annotations

import pytest

from registry.quality import checks
from registry.quality.models import QualityIssue
from registry.quality.services import do_run_quality_checks
from tests.quality.builders import ENROLMENT, clean_patient, patient, stored

pytestmark = pytest.mark.django_db


def findings() -> list[tuple[object, ...]]:
    return sorted(
        QualityIssue.objects.values_list(
            "rule", "patient_id", "submission_id", "field", "message", "severity", "status"
        )
    )


def test_a_small_memo_finds_what_a_large_one_finds(forms, site_a, site_b, monkeypatch):
    for site in (site_a, site_b, site_a):
        clean_patient(site)
        for age in (36, 36, 900, 36, "three"):
            stored(patient(site), "enrollment", {**ENROLMENT, "enrol_age_months": age})
    do_run_quality_checks(None, full=True)
    remembered = findings()
    QualityIssue.objects.all().delete()
    monkeypatch.setattr(checks, "MEMO_LIMIT", 2)

    do_run_quality_checks(None, full=True)

    assert findings() == remembered
    assert [rule for rule, *_ in remembered].count("invalid_value") == 3
