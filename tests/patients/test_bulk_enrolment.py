"""Enrolling many patients at once: as do_enrol_patient one by one, but all or none."""

import pytest
from django.core.exceptions import PermissionDenied

from registry.audit.models import AuditEvent
from registry.patients.models import Patient
from registry.patients.services import (
    EnrolmentRefused,
    NewPatient,
    do_enrol_patient,
    do_enrol_patients_bulk,
)

pytestmark = pytest.mark.django_db


def new(site, local_id, **overrides):
    values = {"sex": "female", "year_of_birth": 2015} | overrides
    return NewPatient(site, local_id, values["sex"], values["year_of_birth"])


def test_every_new_patient_is_created_and_audited(coordinator_a, site_a):
    enrolments = do_enrol_patients_bulk(
        coordinator_a, [new(site_a, "MRN-1"), new(site_a, "MRN-2", sex="male")]
    )
    assert [e.created for e in enrolments] == [True, True]
    assert [e.patient.sex for e in enrolments] == ["female", "male"]
    events = AuditEvent.objects.filter(action="patient.create")
    assert {e.object_id for e in events} == {str(e.patient.pk) for e in enrolments}
    assert all(e.site_id == site_a.pk and e.actor_id == coordinator_a.pk for e in events)


def test_a_local_id_enrolled_before_or_twice_in_the_batch_finds_one_patient(coordinator_a, site_a):
    earlier = do_enrol_patient(
        coordinator_a, site_a, local_id="MRN-1", sex="male", year_of_birth=2014
    ).patient
    enrolments = do_enrol_patients_bulk(
        coordinator_a, [new(site_a, " mrn-1 "), new(site_a, "MRN-2"), new(site_a, "mrn - 2")]
    )
    assert enrolments[0].patient.pk == earlier.pk and not enrolments[0].created
    assert enrolments[1].patient.pk == enrolments[2].patient.pk
    assert [e.created for e in enrolments] == [False, True, False]
    assert Patient.objects.count() == 2


def test_one_bad_patient_enrols_nobody_and_names_its_position(coordinator_a, site_a):
    with pytest.raises(EnrolmentRefused) as refused:
        do_enrol_patients_bulk(
            coordinator_a,
            [new(site_a, "MRN-1"), new(site_a, "MRN-2", year_of_birth=1900), new(site_a, "  ")],
        )
    assert set(refused.value.errors) == {1, 2}
    assert "year_of_birth" in refused.value.errors[1]
    assert "local_id" in refused.value.errors[2]
    assert not Patient.objects.exists()


def test_local_ids_are_kept_nowhere(coordinator_a, site_a):
    do_enrol_patients_bulk(coordinator_a, [new(site_a, "MRN-5550199")])
    assert "5550199" not in str(list(Patient.objects.values()))
    assert "5550199" not in str(list(AuditEvent.objects.values()))


def test_another_sites_coordinator_enrols_nobody(coordinator_b, site_a):
    with pytest.raises(PermissionDenied):
        do_enrol_patients_bulk(coordinator_b, [new(site_a, "MRN-1")])
    assert not Patient.objects.exists()
