"""A curator uploads a data dictionary in the admin, reviews it and publishes it, in a browser."""

import pytest

from registry.audit.models import AuditEvent
from registry.crfs.models import FormVersion
from registry.formengine.dictionary import write_dictionary
from registry.formengine.schema import load_schema
from tests.e2e.browsing import pass_two_factor
from tests.factories import DEFAULT_PASSWORD, assessment_schema, publish_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_curator_uploads_reviews_and_publishes_a_dictionary(page, curator):
    publish_form(assessment_schema())
    v2 = assessment_schema(version=2)
    v2["fields"][0] = {
        **v2["fields"][0],
        "name": "age_at_visit_months",
        "renamed_from": "age_months",
    }
    dictionary = write_dictionary([load_schema(v2)]).encode("utf-8")

    page.goto("/admin/login/")
    page.get_by_label("Username").fill(curator.username)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    pass_two_factor(page, curator.username)

    page.goto("/admin/crfs/formversion/")
    page.get_by_role("link", name="Publish from an uploaded file").click()
    page.get_by_label("File").set_input_files(
        files=[{"name": "assessment.csv", "mimeType": "text/csv", "buffer": dictionary}]
    )
    page.get_by_role("button", name="Upload and review").click()
    page.wait_for_load_state()

    assert page.get_by_role("heading", name="assessment version 2").is_visible()
    effects = page.locator("table.upload-effects")
    assert effects.get_by_text("age_months → age_at_visit_months").is_visible()
    assert effects.get_by_text("show them under age_at_visit_months", exact=False).is_visible()
    assert not FormVersion.objects.filter(number=2).exists()
    page.screenshot(path="/tmp/registry-publish-review.png", full_page=True)

    page.get_by_label("I have checked these changes and want to publish them.").check()
    page.get_by_role("button", name="Publish", exact=True).click()
    page.wait_for_url("**/admin/crfs/formversion/")
    assert page.get_by_text("Published assessment v2 from assessment.csv.").is_visible()
    page.screenshot(path="/tmp/registry-publish-upload.png", full_page=True)

    assert FormVersion.objects.get(number=2).published_by == curator
    assert AuditEvent.objects.filter(action="form_version.publish", actor=curator).count() == 1
