"""The data-quality rules at their thresholds and just short of them."""

from __future__ import annotations

import statistics

import pytest

from registry.quality.models import IssueStatus, QualityIssue
from registry.quality.rules import NEAR_DUPLICATE_DAYS, OUTLIER_SDS
from registry.quality.services import do_run_quality_checks
from tests.quality.builders import (
    ASSESSMENT,
    ENROLMENT,
    SURGERY,
    clean_patient,
    patient,
    stored,
)

pytestmark = pytest.mark.django_db


def patients_flagged(rule: str) -> set:
    return {
        issue.patient for issue in QualityIssue.objects.filter(rule=rule, status=IssueStatus.OPEN)
    }


@pytest.mark.parametrize(("age_months", "flagged"), [(119, False), (120, True)])
def test_physiological_mirror_movements_are_questioned_from_10_years(
    forms, site_a, age_months, flagged
):
    who = clean_patient(site_a)
    who.submissions.filter(form__name="mirror_movements").update(
        data={
            **{k: v for k, v in ASSESSMENT.items() if k != "associated_conditions"},
            "mm_age_months": age_months,
            "mm_classification": "physiological",
        }
    )
    do_run_quality_checks(None, full=True)
    assert patients_flagged("physiological_mm_after_10") == ({who} if flagged else set())


@pytest.mark.parametrize(
    ("days_apart", "flagged"), [(NEAR_DUPLICATE_DAYS, True), (NEAR_DUPLICATE_DAYS + 1, False)]
)
def test_near_duplicates_are_operations_at_most_a_few_days_apart(
    forms, site_a, site_b, days_apart, flagged
):
    first = clean_patient(site_a, year_of_birth=2012)
    twin = clean_patient(site_b, year_of_birth=2012)
    twin.submissions.filter(form__name="surgery").update(
        data={**SURGERY, "surg_age_days": SURGERY["surg_age_days"] + days_apart}
    )
    do_run_quality_checks(None, full=True)
    assert patients_flagged("near_duplicate_patient") == ({first, twin} if flagged else set())


def value_at(z: float, others: list[float]) -> float:
    """The value that lies `z` sample SDs above the mean of `others` plus itself, as the rule
    measures it (the value counts in its own mean and SD)."""
    low, high = max(others), max(others) + 1000.0
    for _ in range(200):
        middle = (low + high) / 2
        sample = [*others, middle]
        if (middle - statistics.mean(sample)) / statistics.stdev(sample) < z:
            low = middle
        else:
            high = middle
    return (low + high) / 2


@pytest.mark.parametrize(
    ("sds", "flagged"), [(OUTLIER_SDS - 0.05, False), (OUTLIER_SDS + 0.05, True)]
)
def test_the_outlier_rule_fires_beyond_3_sd_and_not_short_of_it(forms, site_a, sds, flagged):
    others = [30.0 + index % 7 for index in range(30)]
    for age in others:
        stored(patient(site_a), "enrollment", {**ENROLMENT, "enrol_age_months": age})
    candidate = patient(site_a)
    stored(
        candidate, "enrollment", {**ENROLMENT, "enrol_age_months": round(value_at(sds, others), 3)}
    )
    do_run_quality_checks(None, full=True)
    assert patients_flagged("outlier_sd") == ({candidate} if flagged else set())
