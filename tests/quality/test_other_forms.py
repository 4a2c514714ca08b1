"""Quality runs judge a form's logic on the patient's other forms, as a save does."""

from __future__ import annotations

import pytest

from registry.quality.models import QualityIssue
from registry.quality.services import do_run_quality_checks
from tests.other_forms import publish_intake_and_visit
from tests.quality.builders import patient, stored

pytestmark = pytest.mark.django_db


def test_a_value_hidden_by_another_forms_answer_is_found(site_a):
    publish_intake_and_visit()
    smoker, non_smoker, unknown = patient(site_a), patient(site_a), patient(site_a)
    stored(smoker, "intake", {"weight_kg": 30, "smoker": "1"})
    stored(non_smoker, "intake", {"weight_kg": 30, "smoker": "0"})
    for who in (smoker, non_smoker, unknown):
        stored(who, "visit", {"visit_age_months": 40, "cigs_day": 5, "dose_mg": 60})

    do_run_quality_checks(None, full=True)

    hidden = set(
        QualityIssue.objects.filter(rule="hidden_value").values_list("patient_id", "field")
    )
    assert hidden == {(non_smoker.pk, "cigs_day"), (unknown.pk, "cigs_day")}


def test_a_stale_calculation_from_another_form_is_found(site_a):
    publish_intake_and_visit()
    right, stale = patient(site_a), patient(site_a)
    stored(right, "intake", {"weight_kg": 30})
    stored(stale, "intake", {"weight_kg": 35})
    for who in (right, stale):
        stored(who, "visit", {"visit_age_months": 40, "dose_mg": 60})

    do_run_quality_checks(None, full=True)

    found = {
        (patient_id, rule)
        for patient_id, rule in QualityIssue.objects.filter(field="dose_mg").values_list(
            "patient_id", "rule"
        )
    }
    assert {patient_id for patient_id, _ in found} == {stale.pk}
