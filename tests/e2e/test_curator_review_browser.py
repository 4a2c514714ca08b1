"""A curator verifies and locks a submission in the admin, in a real browser."""

import pytest

from registry.audit.models import AuditEvent
from registry.patients.services import do_enrol_patient
from registry.submissions.models import Submission
from registry.submissions.services import do_save_submission
from tests.e2e.browsing import pass_two_factor
from tests.factories import DEFAULT_PASSWORD, assessment_schema, publish_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def submission(coordinator_a, site_a):
    version = publish_form(assessment_schema())
    patient = do_enrol_patient(
        coordinator_a, site_a, local_id="BROWSER-REVIEW-1", sex="male", year_of_birth=2016
    ).patient
    return do_save_submission(
        coordinator_a,
        patient,
        version,
        {"age_months": 72, "mm_present": "1", "wt_grade": "2"},
        status="complete",
        instance=1,
    ).submission


def test_curator_verifies_and_locks_a_submission(page, curator, submission):
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(curator.username)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # A curator sets up an authenticator app before the admin opens.
    pass_two_factor(page, curator.username)
    assert page.url.endswith("/admin/")
    assert AuditEvent.objects.filter(actor=curator, action="otp.enrol").exists()

    page.goto("/admin/submissions/submission/?review=awaiting")
    page.get_by_role("link", name=submission.patient.pseudonym).first.click()
    page.wait_for_load_state()
    assert page.get_by_text("Grade 2").first.is_visible()

    page.get_by_role("button", name="Verify").click()
    page.wait_for_load_state()
    assert page.get_by_text("verified by curator").first.is_visible()
    page.get_by_role("button", name="Lock").click()
    page.wait_for_load_state()
    assert page.get_by_text("locked.").first.is_visible()
    page.screenshot(path="/tmp/registry-curator-review.png", full_page=True)

    submission.refresh_from_db()
    assert submission.locked and submission.verified_by == curator
    assert set(AuditEvent.objects.filter(actor=curator).values_list("action", flat=True)) >= {
        "submission.verify",
        "submission.lock",
    }
    assert Submission.objects.get(pk=submission.pk).locked
