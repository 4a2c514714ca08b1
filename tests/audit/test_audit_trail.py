import pytest
from django.db import DatabaseError, connection, transaction

from registry.audit.models import AuditEvent, AuditTrailIsAppendOnly
from registry.patients.services import do_enrol_patient, do_update_patient
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(coordinator_a, site_a):
    return do_enrol_patient(
        coordinator_a, site_a, local_id="L-1", sex="male", year_of_birth=2016
    ).patient


def test_create_is_audited_with_actor_object_and_diff(coordinator_a, patient, site_a):
    event = AuditEvent.objects.get(action="patient.create")
    assert event.actor == coordinator_a
    assert event.object_id == str(patient.pk)
    assert event.site == site_a
    assert event.changes == {"sex": [None, "male"], "year_of_birth": [None, 2016]}


def test_update_is_audited_with_a_field_level_diff(coordinator_a, patient):
    do_update_patient(coordinator_a, patient, sex="male", year_of_birth=2015)
    event = AuditEvent.objects.get(action="patient.update")
    assert event.changes == {"year_of_birth": [2016, 2015]}


def test_login_is_audited(client, coordinator_a):
    response = client.post("/login/", {"username": "coord_a", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="login", actor=coordinator_a).exists()


def test_failed_login_is_audited_without_the_password(client, coordinator_a):
    response = client.post("/login/", {"username": "coord_a", "password": "wrong-guess-123"})
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="login_failed")
    assert event.context["username"] == "coord_a"
    assert "wrong-guess-123" not in str(event.context)


def test_events_of_one_request_share_its_request_id(client, coordinator_a):
    response = client.post(
        "/login/",
        {"username": "coord_a", "password": DEFAULT_PASSWORD},
        HTTP_X_REQUEST_ID="req-12345678",
    )
    assert response["X-Request-ID"] == "req-12345678"
    assert AuditEvent.objects.get(action="login").request_id == "req-12345678"


def test_model_refuses_to_change_an_event(patient):
    event = AuditEvent.objects.get(action="patient.create")
    event.action = "something.else"
    with pytest.raises(AuditTrailIsAppendOnly):
        event.save()


def test_model_refuses_to_delete_an_event(patient):
    event = AuditEvent.objects.get(action="patient.create")
    with pytest.raises(AuditTrailIsAppendOnly):
        event.delete()
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.all().delete()
    with pytest.raises(AuditTrailIsAppendOnly):
        AuditEvent.objects.all().update(action="x")
    assert AuditEvent.objects.filter(action="patient.create").exists()


def test_database_refuses_an_update_that_bypasses_the_model(patient):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'forged'")
    assert not AuditEvent.objects.filter(action="forged").exists()


def test_an_admin_edit_of_a_token_is_named_as_the_services_name_tokens(client, admin_user):
    from registry.people.models import ApiToken
    from tests.factories import api_token_for

    api_token_for(admin_user, name="old name")
    token = ApiToken.objects.get()
    client.force_login(admin_user)
    response = client.post(
        f"/admin/people/apitoken/{token.pk}/change/",
        {
            "name": "new name",
            "expires_at_0": "",
            "expires_at_1": "",
            "revoked_at_0": "",
            "revoked_at_1": "",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="api_token.update")
    assert event.changes["name"] == ["old name", "new name"]
