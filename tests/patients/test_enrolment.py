import logging
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from registry.audit.models import AuditEvent
from registry.patients.models import Patient
from registry.patients.services import do_enrol_patient

pytestmark = pytest.mark.django_db

LOCAL_ID = "MRN-5550199"


def enrol(user, site, **overrides):
    values = {"local_id": LOCAL_ID, "sex": "male", "year_of_birth": 2016} | overrides
    return do_enrol_patient(user, site, **values)


def test_enrolment_creates_a_patient_with_a_pseudonym(coordinator_a, site_a):
    enrolment = enrol(coordinator_a, site_a)
    assert enrolment.created
    assert enrolment.patient.pseudonym.startswith("SITEA-")
    assert enrolment.patient.site == site_a


def test_re_enrolling_the_same_local_id_finds_the_existing_patient(coordinator_a, site_a):
    first = enrol(coordinator_a, site_a)
    again = enrol(coordinator_a, site_a, local_id=" mrn-5550199 ")
    assert not again.created
    assert again.patient.pk == first.patient.pk
    assert Patient.objects.count() == 1


def test_local_id_is_stored_nowhere(coordinator_a, site_a, caplog):
    caplog.set_level(logging.DEBUG)
    enrol(coordinator_a, site_a)
    enrol(coordinator_a, site_a)

    dump = StringIO()
    call_command("dumpdata", stdout=dump)
    everything = dump.getvalue()
    assert "patients.patient" in everything  # the dump really holds the patient
    for form in (LOCAL_ID, LOCAL_ID.lower(), "5550199"):
        assert form not in everything
        assert form not in caplog.text
    trail = " ".join(f"{e.object_label} {e.changes} {e.context}" for e in AuditEvent.objects.all())
    assert "5550199" not in trail


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"local_id": "  "}, "local_id"),
        ({"sex": "m"}, "sex"),
        ({"year_of_birth": None}, "year_of_birth"),
        ({"year_of_birth": timezone.now().year + 1}, "year_of_birth"),
        ({"year_of_birth": timezone.now().year - 90}, "year_of_birth"),
    ],
)
def test_bad_enrolment_names_the_field_and_stores_nothing(coordinator_a, site_a, overrides, field):
    with pytest.raises(ValidationError) as error:
        enrol(coordinator_a, site_a, **overrides)
    assert field in error.value.message_dict
    assert Patient.objects.count() == 0
    assert not AuditEvent.objects.filter(action="patient.create").exists()


def test_oldest_accepted_year_of_birth_is_89_years_ago(coordinator_a, site_a):
    assert enrol(coordinator_a, site_a, year_of_birth=timezone.now().year - 89).created
