"""Both index cases of forms/fixtures/index_cases.yaml, entered entirely through the pages.

The widgets are driven from the fixture data and the form schemas alone, so any field the
forms gain is exercised the same way. What is stored must equal the fixture exactly: the same
typed values, on the same form versions, with the same statuses.
"""

from pathlib import Path

import pytest
import yaml
from django.conf import settings

from registry.crfs.selectors import latest_version, schema_of
from registry.patients.models import Patient
from registry.patients.services import pseudonym_for
from registry.submissions.models import Status, Submission
from tests.e2e.browsing import enrol, fill_form, log_in, save
from tests.factories import DEFAULT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INDEX_CASES = yaml.safe_load(
    (Path(settings.BASE_DIR) / "forms" / "fixtures" / "index_cases.yaml").read_text("utf-8")
)


def open_entry_page(page, pseudonym: str, version, instance: int) -> None:
    form = version.form
    if not form.repeatable:
        page.goto(f"/patients/{pseudonym}/{form.name}/{instance}/")
        return
    # New instances are added from the patient page, as a coordinator would.
    page.goto(f"/patients/{pseudonym}/")
    page.locator(f'tr[data-form="{form.name}"] a:has-text("New")').click()
    if version != latest_version(form):
        page.get_by_role("link", name=f"Use version {version.number}").click()
    # Its logic scripts run when the page has loaded; its fields can be filled earlier.
    page.wait_for_load_state()


def test_both_index_cases_entered_through_the_ui_are_stored_as_told(
    page, coordinator_a, site_a, registry_forms
):
    log_in(page, "coord_a", DEFAULT_PASSWORD)
    for case in INDEX_CASES:
        pseudonym = enrol(page, case["local_id"], case["sex"], case["year_of_birth"])
        assert pseudonym == pseudonym_for(site_a, case["local_id"])
        for entry in case["submissions"]:
            version = registry_forms[entry["form"], entry["version"]]
            schema = schema_of(version)
            open_entry_page(page, pseudonym, version, entry["instance"])
            fill_form(page, schema, entry["data"])
            for name, value in entry["data"].items():
                if schema.field(name).type == "calc":
                    shown = page.locator(f"#field-{name}").text_content()
                    assert float(shown) == pytest.approx(value), name
            save(page, entry["status"])
            title = version.form.title
            label = Status(entry["status"]).label
            assert f"Saved {title} #{entry['instance']}. Status: {label}." in page.content()
    page.screenshot(path="/tmp/registry-index-case-2.png", full_page=False)

    for case in INDEX_CASES:
        patient = Patient.objects.get(pseudonym=pseudonym_for(site_a, case["local_id"]))
        assert (patient.sex, patient.year_of_birth) == (case["sex"], case["year_of_birth"])
        stored = {
            (s.form.name, s.instance): s
            for s in Submission.objects.filter(patient=patient).select_related(
                "form", "form_version"
            )
        }
        assert len(stored) == len(case["submissions"])
        for entry in case["submissions"]:
            submission = stored[entry["form"], entry["instance"]]
            assert submission.data == entry["data"], (case["key"], entry["form"])
            assert submission.form_version.number == entry["version"]
            assert submission.status == entry["status"]
