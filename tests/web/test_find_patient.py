"""Finding a patient from the dashboard by local hospital ID: hashed, looked up, forgotten."""

import io
import logging
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.audit.models import AuditEvent
from registry.patients.selectors import find_by_local_id, pseudonym_for
from tests.conftest import Client
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

LOCAL_ID = "WARD9-445566-KX"
NOT_FOUND = "No patient with that hospital number at your sites."


def find(client, local_id=LOCAL_ID, **extra):
    return client.post("/find/", {"local_id": local_id}, **extra)


def find_raw(client, body):
    return client.post("/find/", body, content_type="application/x-www-form-urlencoded")


@pytest.fixture
def enrolled_a(site_a):
    return PatientFactory(site=site_a, pseudonym=pseudonym_for(site_a, LOCAL_ID))


def test_the_dashboard_offers_the_look_up_by_post_without_autocomplete(client_a, site_a):
    page = client_a.get("/").content.decode()
    form = re.search(r'<form method="post" action="/find/".*?</form>', page, re.S)
    assert form is not None
    assert 'autocomplete="off"' in form.group(0) and 'name="local_id"' in form.group(0)
    assert "csrfmiddlewaretoken" in form.group(0)


def test_the_hospital_number_finds_the_patient_and_opens_their_page(client_a, enrolled_a):
    response = find(client_a)
    assert response.status_code == 303
    assert response["Location"] == f"/patients/{enrolled_a.pseudonym}/"


def test_the_number_is_read_as_enrolment_reads_it(client_a, enrolled_a):
    response = find(client_a, " ward9-445566- kx\t")
    assert response["Location"] == f"/patients/{enrolled_a.pseudonym}/"


def test_a_patient_of_another_site_is_not_found(client_a, site_a, site_b):
    PatientFactory(site=site_b, pseudonym=pseudonym_for(site_b, LOCAL_ID))
    # Even a patient of site B under the pseudonym the number has at site A stays out of reach.
    PatientFactory(site=site_b, pseudonym=pseudonym_for(site_a, LOCAL_ID))
    response = find(client_a)
    assert response.status_code == 303 and response["Location"] == "/"
    assert find_by_local_id(UserFactory(sites=[site_a]), LOCAL_ID) == []


def test_not_found_says_so_plainly_on_the_dashboard_with_the_box_empty(client_a, site_a):
    response = find(client_a, follow=True)
    page = response.content.decode()
    assert response.redirect_chain == [("/", 303)]
    assert NOT_FOUND in page
    box = re.search(r'<input[^>]*name="local_id"[^>]*>', page)
    assert box is not None and "value=" not in box.group(0)


def test_a_number_at_several_of_ones_sites_lists_them_to_choose(client, site_a, site_b):
    at_a = PatientFactory(site=site_a, pseudonym=pseudonym_for(site_a, LOCAL_ID))
    at_b = PatientFactory(site=site_b, pseudonym=pseudonym_for(site_b, LOCAL_ID))
    client.force_login(UserFactory(sites=[site_a, site_b]))
    response = find(client)
    page = response.content.decode()
    assert response.status_code == 200
    for patient in (at_a, at_b):
        assert f'href="/patients/{patient.pseudonym}/"' in page
        assert patient.site.code in page
    assert LOCAL_ID not in page


def test_the_number_goes_nowhere(client_a, site_a, site_b, enrolled_a, caplog):
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)
    PatientFactory(site=site_b, pseudonym=pseudonym_for(site_b, "OTHER-1"))
    # Every query is logged too (django.db.backends, at DEBUG), with its parameters.
    with CaptureQueriesContext(connection) as queries:
        responses = [
            find(client_a, follow=True),
            find(client_a, LOCAL_ID.lower(), follow=True),
            find(client_a, "OTHER-1", follow=True),
            find(client_a, "NOT-ENROLLED-77", follow=True),
            find(client_a, "X" * 101),
        ]
    spellings = [LOCAL_ID, LOCAL_ID.lower(), "OTHER-1", "NOT-ENROLLED-77", "X" * 101]
    assert responses[0].redirect_chain[-1][0] == f"/patients/{enrolled_a.pseudonym}/"
    written = {record.name for record in caplog.records}
    assert "django.db.backends" in written, "the queries were not logged: the check proves little"
    session = client_a.session
    session_text = repr(dict(session.items()))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {AuditEvent._meta.db_table}")
        audit_rows = repr(cursor.fetchall())
    everything = io.StringIO()
    call_command("dumpdata", stdout=everything)
    for spelling in spellings:
        for response in responses:
            assert spelling not in response.content.decode()
            assert spelling not in str(response.headers)
        assert spelling not in caplog.text
        assert spelling not in repr(queries.captured_queries)
        assert spelling not in session_text
        assert spelling not in str(client_a.cookies)
        assert spelling.lower() not in audit_rows.lower()
        assert spelling.lower() not in everything.getvalue().lower()


def test_a_look_up_is_audited_without_the_number(client_a, enrolled_a):
    find(client_a)
    find(client_a, "NOT-ENROLLED-77")
    found, missed = AuditEvent.objects.filter(action="patient.find").order_by("pk")
    assert found.actor == missed.actor
    assert (found.context["count"], found.context["ids"]) == (1, [str(enrolled_a.pk)])
    assert found.site == enrolled_a.site
    assert (missed.context["count"], missed.context["ids"]) == (0, [])


def test_only_post_looks_up(client_a, enrolled_a):
    response = client_a.get("/find/", {"local_id": LOCAL_ID})
    assert response.status_code == 405
    assert not AuditEvent.objects.filter(action="patient.find").exists()


def test_the_look_up_needs_the_csrf_token(coordinator_a, enrolled_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator_a)
    assert find(client).status_code == 403
    assert not AuditEvent.objects.filter(action="patient.find").exists()


HOSTILE = {
    "empty": ("local_id=", "Type the patient&#x27;s local hospital ID."),
    "only spaces": ("local_id=+%09+", "Type the patient&#x27;s local hospital ID."),
    "missing": ("other=1", "Type the patient&#x27;s local hospital ID."),
    "too long": ("local_id=" + "7" * 101, "A local hospital ID has at most 100 characters."),
    "lone high surrogate": ("local_id=A%ED%A0%80B", "holds a character that is not text"),
    "lone low surrogate": ("local_id=A%ED%BF%BFB", "holds a character that is not text"),
    "not UTF-8": ("local_id=A%FF%FEB", "holds a character that is not text"),
}


@pytest.mark.parametrize(("body", "words"), HOSTILE.values(), ids=HOSTILE)
def test_a_bad_number_is_refused_naming_the_field(client_a, enrolled_a, body, words):
    response = find_raw(client_a, body)
    page = response.content.decode()
    assert response.status_code == 400, page[:300]
    assert words in page and "Local hospital ID" in page
    assert not AuditEvent.objects.filter(action="patient.find").exists()


@pytest.mark.parametrize("body", ["local_id=A%00B", "local_id=" + "7" * 10 * 1024 * 1024])
def test_a_nul_or_huge_number_is_refused_at_the_door(client_a, enrolled_a, body):
    response = find_raw(client_a, body)
    assert 400 <= response.status_code < 500
    assert len(response.content) < 1024 * 1024
    assert not AuditEvent.objects.filter(action="patient.find").exists()


def test_researchers_may_not_look_up(client, researcher, enrolled_a):
    client.force_login(researcher)
    assert find(client).status_code == 403
    assert not AuditEvent.objects.filter(action="patient.find").exists()


def test_curators_work_by_registry_code_not_hospital_number(client, curator, enrolled_a):
    client.force_login(curator)
    response = find(client)
    assert response.status_code == 403
    assert "registry code" in response.content.decode()
    assert 'action="/find/"' not in client.get("/").content.decode()
    assert find_by_local_id(curator, LOCAL_ID) == []


def test_an_administrator_looks_up_at_every_site(client, admin_user, site_b):
    at_b = PatientFactory(site=site_b, pseudonym=pseudonym_for(site_b, LOCAL_ID))
    client.force_login(admin_user)
    assert find(client)["Location"] == f"/patients/{at_b.pseudonym}/"
