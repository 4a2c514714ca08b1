"""The patient lookup of data entry: one query that also checks the caller's site."""

import pytest

from registry.patients.selectors import patient_for_data_entry
from registry.people.access import can_enter_data
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def patients(site_a, site_b):
    return PatientFactory(site=site_a, pseudonym="SITEA-1"), PatientFactory(
        site=site_b, pseudonym="SITEB-1"
    )


def test_coordinator_finds_their_sites_patient(coordinator_a, patients):
    assert patient_for_data_entry(coordinator_a, "SITEA-1") == patients[0]


def test_coordinator_does_not_find_other_sites_patient(coordinator_a, patients):
    assert patient_for_data_entry(coordinator_a, "SITEB-1") is None


def test_unknown_pseudonym_is_not_found(coordinator_a, patients):
    assert patient_for_data_entry(coordinator_a, "NOBODY") is None


def test_admin_finds_any_sites_patient(admin_user, patients):
    assert patient_for_data_entry(admin_user, "SITEB-1") == patients[1]


@pytest.mark.parametrize("role", ["curator", "researcher"])
def test_readers_find_no_patient_for_data_entry(role, request, patients):
    assert patient_for_data_entry(request.getfixturevalue(role), "SITEA-1") is None


def test_a_found_patient_spares_the_membership_check(coordinator_a, patients,
                                                     django_assert_num_queries):
    patient = patient_for_data_entry(coordinator_a, "SITEA-1")
    with django_assert_num_queries(0):
        assert can_enter_data(coordinator_a, patient.site)


def test_another_site_is_still_checked(coordinator_a, patients, django_assert_num_queries):
    patient_for_data_entry(coordinator_a, "SITEA-1")
    with django_assert_num_queries(1):
        assert not can_enter_data(coordinator_a, patients[1].site)
