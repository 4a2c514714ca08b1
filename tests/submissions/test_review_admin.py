"""The review pages of the admin: who reaches them, and what a curator does there."""

import pytest

from registry.audit.models import AuditEvent
from registry.submissions.models import Submission
from registry.submissions.services import do_save_submission
from tests.factories import PatientFactory, assessment_schema, publish_form

pytestmark = pytest.mark.django_db

DATA = {"age_months": 36, "mm_present": "1", "wt_grade": "2"}


@pytest.fixture
def submission(coordinator_a, site_a):
    version = publish_form(assessment_schema())
    patient = PatientFactory(site=site_a, pseudonym="SITEA-ADM1")
    submission = do_save_submission(
        coordinator_a, patient, version, DATA, status="complete", instance=1
    ).submission
    do_save_submission(
        coordinator_a, patient, version, {**DATA, "wt_grade": "3"}, status="complete", instance=1
    )
    return submission


def test_coordinators_and_researchers_cannot_reach_the_admin(client, coordinator_a, researcher):
    for user in (coordinator_a, researcher):
        client.force_login(user)
        response = client.get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_curators_review_but_do_not_manage_people(client, curator, submission):
    client.force_login(curator)
    index = client.get("/admin/").content.decode()
    assert "Submissions" in index
    assert "/admin/people/user/" not in index
    assert client.get("/admin/people/user/").status_code == 403
    assert client.get("/admin/people/site/").status_code == 403


def test_admins_manage_people_sites_and_tokens(client, admin_user):
    client.force_login(admin_user)
    for page in ("/admin/people/user/", "/admin/people/site/", "/admin/people/apitoken/"):
        assert client.get(page).status_code == 200


def test_review_queue_lists_complete_unverified_submissions_of_all_sites(
    client, curator, submission, coordinator_b, site_b
):
    version = submission.form_version
    other = PatientFactory(site=site_b, pseudonym="SITEB-ADM2")
    do_save_submission(coordinator_b, other, version, DATA, status="incomplete")
    client.force_login(curator)
    page = client.get("/admin/submissions/submission/?review=awaiting").content.decode()
    assert "SITEA-ADM1" in page and "SITEB-ADM2" not in page
    page = client.get("/admin/submissions/submission/").content.decode()
    assert "SITEA-ADM1" in page and "SITEB-ADM2" in page


def test_review_page_shows_labels_and_a_labelled_history(client, curator, submission):
    client.force_login(curator)
    page = client.get(f"/admin/submissions/submission/{submission.pk}/change/").content.decode()
    assert "Woods &amp; Teuber grade" in page
    assert "Grade 3" in page
    assert "Woods &amp; Teuber grade: Grade 2 → Grade 3" in page


def test_curator_verifies_and_locks_from_the_review_page(client, curator, submission):
    client.force_login(curator)
    client.post(f"/admin/submissions/submission/{submission.pk}/verify/")
    client.post(f"/admin/submissions/submission/{submission.pk}/lock/")
    submission.refresh_from_db()
    assert submission.verified_at is not None and submission.locked
    response = client.post(
        f"/admin/submissions/submission/{submission.pk}/unlock/", {"reason": ""}, follow=True
    )
    assert "Say why" in response.content.decode()
    assert Submission.objects.get(pk=submission.pk).locked


def test_bulk_verify_action_is_audited(client, curator, submission):
    client.force_login(curator)
    client.post(
        "/admin/submissions/submission/",
        {"action": "verify_selected", "_selected_action": [submission.pk]},
    )
    assert AuditEvent.objects.filter(action="submission.verify").count() == 1


def test_the_audit_trail_cannot_be_edited_or_deleted_from_the_admin(client, admin_user, submission):
    client.force_login(admin_user)
    event = AuditEvent.objects.first()
    page = client.get(f"/admin/audit/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    assert (
        client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"action": "forged"}).status_code
        == 403
    )
    assert (
        client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk, action=event.action).exists()


def test_the_review_pages_say_what_was_done_in_whole_sentences(
    client, curator, submission, site_a, coordinator_a
):
    client.force_login(curator)
    page = client.post(
        f"/admin/submissions/submission/{submission.pk}/verify/", follow=True
    ).content.decode()
    assert "Assessment #1 of SITEA-ADM1 is verified." in page
    other = PatientFactory(site=site_a, pseudonym="SITEA-ADM3")
    do_save_submission(
        coordinator_a, other, submission.form_version, DATA, status="complete", instance=1
    )
    one = {"action": "lock_selected", "_selected_action": [submission.pk]}
    page = client.post("/admin/submissions/submission/", one, follow=True).content.decode()
    assert "1 submission locked." in page and "(s)" not in page
    both = {
        "action": "verify_selected",
        "_selected_action": list(Submission.objects.values_list("pk", flat=True)),
    }
    page = client.post("/admin/submissions/submission/", both, follow=True).content.decode()
    assert "2 submissions verified." in page
