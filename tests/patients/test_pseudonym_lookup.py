"""Finding many patients by pseudonym at once, within what a caller may see."""

import pytest

from registry.patients.models import Patient
from registry.patients.selectors import visible_patients, with_pseudonyms

pytestmark = pytest.mark.django_db


def test_exactly_the_named_patients_are_found(patient_a, patient_b):
    found = with_pseudonyms(
        Patient.objects.all(), [patient_b.pseudonym, "NOBODY", patient_a.pseudonym]
    )
    assert sorted(found, key=lambda p: p.pk) == [patient_a, patient_b]
    assert list(with_pseudonyms(Patient.objects.all(), [])) == []


def test_the_callers_view_still_limits_what_is_found(coordinator_a, patient_a, patient_b):
    found = with_pseudonyms(
        visible_patients(coordinator_a), [patient_a.pseudonym, patient_b.pseudonym]
    )
    assert list(found) == [patient_a]
