"""The patient lookup of data entry: one query that also checks the caller's site."""

import pytest

from registry.patients.selectors import patient_for_data_entry
from registry.people.access import can_enter_data

pytestmark = pytest.mark.django_db


def test_coordinator_finds_their_sites_patient(coordinator_a, patient_a):
    assert patient_for_data_entry(coordinator_a, patient_a.pseudonym) == patient_a


def test_coordinator_does_not_find_other_sites_patient(coordinator_a, patient_b):
    assert patient_for_data_entry(coordinator_a, patient_b.pseudonym) is None


def test_unknown_pseudonym_is_not_found(coordinator_a, patient_a, patient_b):
    assert patient_for_data_entry(coordinator_a, "NOBODY") is None


def test_admin_finds_any_sites_patient(admin_user, patient_b):
    assert patient_for_data_entry(admin_user, patient_b.pseudonym) == patient_b


@pytest.mark.parametrize("role", ["curator", "researcher"])
def test_readers_find_no_patient_for_data_entry(role, request, patient_a):
    assert patient_for_data_entry(request.getfixturevalue(role), patient_a.pseudonym) is None


def test_a_found_patient_spares_the_membership_check(
    coordinator_a, patient_a, django_assert_num_queries
):
    patient = patient_for_data_entry(coordinator_a, patient_a.pseudonym)
    with django_assert_num_queries(0):
        assert can_enter_data(coordinator_a, patient.site)


def test_another_site_is_still_checked(
    coordinator_a, patient_a, patient_b, django_assert_num_queries
):
    patient_for_data_entry(coordinator_a, patient_a.pseudonym)
    with django_assert_num_queries(1):
        assert not can_enter_data(coordinator_a, patient_b.site)
