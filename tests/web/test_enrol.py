"""Enrolling a patient from the browser: the local hospital ID is hashed and goes no further."""

import io
import logging
import re

import pytest
from django.core.management import call_command

from registry.audit.models import AuditEvent
from registry.patients.models import Patient
from registry.patients.services import pseudonym_for

pytestmark = pytest.mark.django_db

LOCAL_ID = "HOSP-778899-QZ"


def enrol(client, **changes):
    return client.post(
        "/enrol/",
        {"local_id": LOCAL_ID, "sex": "female", "year_of_birth": "2016", **changes},
        follow=True,
    )


def test_the_form_asks_for_the_local_id_without_autocomplete(client_a, site_a):
    page = client_a.get("/enrol/").content.decode()
    assert 'name="local_id"' in page and 'autocomplete="off"' in page
    assert "Enrol a patient at SITEA" in page


def test_enrolling_creates_the_patient_and_opens_their_page(client_a, site_a, registry_forms):
    response = enrol(client_a)
    patient = Patient.objects.get()
    assert patient.pseudonym == pseudonym_for(site_a, LOCAL_ID)
    assert (patient.site, patient.sex, patient.year_of_birth) == (site_a, "female", 2016)
    assert response.redirect_chain[-1][0] == f"/patients/{patient.pseudonym}/"
    assert f"registry code {patient.pseudonym}" in response.content.decode()


def test_the_local_id_is_in_no_page_log_line_audit_event_or_table(
    client_a, site_a, registry_forms, caplog
):
    caplog.set_level(logging.DEBUG)
    pages = [
        enrol(client_a),
        enrol(client_a),
        enrol(client_a, year_of_birth="1800"),
        enrol(client_a, sex=""),
    ]
    pages.append(client_a.get(f"/patients/{Patient.objects.get().pseudonym}/"))
    pages.append(client_a.get("/"))
    for response in pages:
        assert LOCAL_ID not in response.content.decode()
        assert LOCAL_ID not in str(response.headers)
    assert LOCAL_ID not in caplog.text
    for event in AuditEvent.objects.all():
        assert LOCAL_ID not in f"{event.object_label} {event.changes} {event.context}"
    everything = io.StringIO()
    call_command("dumpdata", stdout=everything)
    assert LOCAL_ID not in everything.getvalue()
    assert LOCAL_ID.lower() not in everything.getvalue().lower()


def test_enrolling_the_same_local_id_again_opens_the_existing_patient(client_a, registry_forms):
    enrol(client_a)
    response = enrol(client_a, sex="male", year_of_birth="2015")
    patient = Patient.objects.get()
    assert Patient.objects.count() == 1
    assert response.redirect_chain[-1][0] == f"/patients/{patient.pseudonym}/"
    assert "already enrolled" in response.content.decode()
    assert AuditEvent.objects.filter(action="patient.create").count() == 1


def test_spaces_and_case_in_the_local_id_do_not_make_a_new_patient(client_a, registry_forms):
    enrol(client_a)
    response = enrol(client_a, local_id=" hosp-778899-qz ")
    assert Patient.objects.count() == 1 and "already enrolled" in response.content.decode()


def test_errors_name_the_field_keep_the_answers_but_never_the_local_id(client_a):
    response = enrol(client_a, year_of_birth="1800")
    page = response.content.decode()
    assert not Patient.objects.exists()
    assert "Year of birth 1800 is more than 89 years ago" in page
    assert 'value="1800"' in page
    assert re.search(r'value="female"[^>]*checked', page)
    assert "type the local hospital ID again" in page
    assert LOCAL_ID not in page


def test_a_year_of_birth_in_the_future_is_refused(client_a):
    page = enrol(client_a, year_of_birth="2999").content.decode()
    assert "is in the future" in page and not Patient.objects.exists()


def test_a_missing_local_id_is_asked_for(client_a):
    page = enrol(client_a, local_id="").content.decode()
    assert "Type the patient&#x27;s local hospital ID." in page
    assert not Patient.objects.exists()


def test_patients_are_enrolled_at_the_working_site(client, site_a, site_b, registry_forms):
    from tests.factories import UserFactory

    nurse = UserFactory(sites=[site_a, site_b])
    client.force_login(nurse)
    client.post("/site/", {"site": "SITEB"})
    enrol(client)
    assert Patient.objects.get().site == site_b


def test_a_coordinator_of_several_sites_must_choose_one_first(
    client, site_a, site_b, registry_forms
):
    from tests.factories import UserFactory

    client.force_login(UserFactory(sites=[site_a, site_b]))
    response = client.post(
        "/enrol/", {"local_id": LOCAL_ID, "sex": "male", "year_of_birth": "2016"}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert not Patient.objects.exists()


def test_curators_and_researchers_cannot_enrol(client, curator, researcher, site_a):
    client.force_login(curator)
    client.post("/site/", {"site": "SITEA"})
    assert enrol(client).status_code == 403
    client.force_login(researcher)
    assert enrol(client).status_code == 403
    assert not Patient.objects.exists()
