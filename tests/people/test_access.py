"""The access layer: a coordinator of site A sees and changes nothing of site B."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from registry.patients.models import Patient
from registry.patients.selectors import visible_patients
from registry.patients.services import do_enrol_patient, do_update_patient
from registry.people.access import (
    can_enter_data,
    in_data_entry_sites,
    require_curation,
    require_data_entry,
    sites_in_scope,
)
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def patients(site_a, site_b):
    return PatientFactory(site=site_a, pseudonym="SITEA-1"), PatientFactory(
        site=site_b, pseudonym="SITEB-1"
    )


def test_coordinator_lists_only_their_sites_patients(coordinator_a, patients):
    patient_a, _ = patients
    assert list(visible_patients(coordinator_a)) == [patient_a]


def test_coordinator_counts_only_their_sites_patients(coordinator_a, patients):
    assert visible_patients(coordinator_a).count() == 1


def test_coordinator_cannot_read_other_sites_patient_by_id(coordinator_a, patients):
    _, patient_b = patients
    assert not visible_patients(coordinator_a).filter(pk=patient_b.pk).exists()


def test_coordinator_sees_only_their_sites(coordinator_a, site_a, site_b):
    assert list(sites_in_scope(coordinator_a)) == [site_a]


def test_coordinator_of_two_sites_sees_both(site_a, site_b, patients):
    from tests.factories import UserFactory

    both = UserFactory(sites=[site_a, site_b])
    assert visible_patients(both).count() == 2


def test_coordinator_cannot_enrol_at_other_site(coordinator_a, site_b):
    with pytest.raises(PermissionDenied):
        do_enrol_patient(coordinator_a, site_b, local_id="X1", sex="male", year_of_birth=2015)


def test_coordinator_cannot_change_other_sites_patient(coordinator_a, patients):
    _, patient_b = patients
    with pytest.raises(PermissionDenied):
        do_update_patient(coordinator_a, patient_b, sex="female", year_of_birth=2015)
    patient_b.refresh_from_db()
    assert patient_b.sex == "male"


@pytest.mark.parametrize("role_fixture", ["curator", "researcher", "admin_user"])
def test_registry_wide_roles_see_every_site(request, role_fixture, patients):
    user = request.getfixturevalue(role_fixture)
    assert visible_patients(user).count() == 2


def test_researcher_cannot_enter_data(researcher, site_a):
    assert not can_enter_data(researcher, site_a)


def test_inactive_coordinator_sees_nothing(coordinator_a, patients):
    coordinator_a.is_active = False
    coordinator_a.save()
    assert visible_patients(coordinator_a).count() == 0


def test_anonymous_user_sees_nothing(patients):
    assert visible_patients(AnonymousUser()).count() == 0


def test_an_inactive_coordinator_may_not_enter_data_even_at_their_own_site(
    coordinator_a, site_a, patients
):
    assert can_enter_data(coordinator_a, site_a)
    assert Patient.objects.filter(in_data_entry_sites(coordinator_a)).count() == 1
    coordinator_a.is_active = False
    assert not can_enter_data(coordinator_a, site_a)
    assert not Patient.objects.filter(in_data_entry_sites(coordinator_a)).exists()


def test_no_one_signed_in_may_enter_data(site_a, patients):
    assert not can_enter_data(AnonymousUser(), site_a)
    assert not Patient.objects.filter(in_data_entry_sites(AnonymousUser())).exists()


def test_refusals_name_who_and_where(coordinator_b, site_a):
    with pytest.raises(PermissionDenied, match="coord_b may not enter data for site SITEA"):
        require_data_entry(coordinator_b, site_a)
    with pytest.raises(PermissionDenied, match="coord_b is not a curator"):
        require_curation(coordinator_b)
