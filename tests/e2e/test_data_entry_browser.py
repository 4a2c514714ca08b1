"""A coordinator's afternoon, in a real browser: enrol, fill forms, watch the logic work."""

import re

import pytest

from registry.submissions.models import Submission
from tests.e2e.browsing import STATUS_COLOURS, cell_colour, enrol, log_in, save
from tests.factories import DEFAULT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_enrol_fill_with_live_logic_fix_an_error_and_see_the_dashboard(
    page, coordinator_a, registry_forms
):
    log_in(page, "coord_a", DEFAULT_PASSWORD)
    pseudonym = enrol(page, "WARD7-000123", "male", 2016)
    assert pseudonym.startswith("SITEA-")
    assert "WARD7-000123" not in page.content()

    page.get_by_role("link", name="New Mirror movements form").click()
    # Until the page has loaded, its fields can be filled before the logic scripts have run.
    page.wait_for_url("**/mirror_movements/new/")
    page.get_by_label("Age at assessment (months)").fill("3 years")
    grades = page.locator("#field-wt_grade_left_task")
    onset = page.locator("#row-onset_age_months")
    assert grades.is_hidden() and onset.is_hidden()

    # Mirror movements present: yes -> the description and the grades appear.
    page.locator("input[name=mm_present][value='1']").check()
    assert grades.is_visible() and onset.is_visible()
    page.locator("input[name=wt_grade_left_task][value='2']").check()
    page.locator("input[name=body_regions][value=distal]").check()
    # Ticking "since early childhood" hides the age at onset (a checkbox in the logic).
    page.get_by_label("Since early childhood").check()
    assert onset.is_hidden()
    page.screenshot(path="/tmp/registry-data-entry.png", full_page=False)

    # No -> they disappear and their answers are cleared; yes again -> the answers come back.
    page.locator("input[name=mm_present][value='0']").check()
    assert grades.is_hidden()
    # A section whose questions are all hidden loses its header too.
    assert page.locator(".form-section:has(#row-elicited_by)").is_hidden()
    assert page.locator("input[name=wt_grade_left_task]:checked").count() == 0
    assert "answer cleared" in page.locator("#entry-announcer").text_content()
    assert page.locator("#logic-notice").is_visible()
    page.locator("input[name=mm_present][value='1']").check()
    assert grades.is_visible()
    assert page.locator("input[name=wt_grade_left_task][value='2']").is_checked()
    assert page.locator("#logic-notice").is_hidden()

    # Saving with an error: nothing saved, the message sits by the field, answers kept.
    save(page, "incomplete")
    error = page.locator("#field-mm_age_months_error")
    assert "must be a whole number" in error.text_content()
    assert page.locator("#field-mm_age_months").input_value() == "3 years"
    assert page.locator("input[name=wt_grade_left_task][value='2']").is_checked()
    assert not Submission.objects.exists()
    page.get_by_label("Age at assessment (months)").fill("36")
    save(page, "incomplete")
    assert "Saved Mirror movements #1. Status: Incomplete." in page.content()

    page.goto("/")
    assert cell_colour(page, pseudonym, "mirror_movements") == STATUS_COLOURS["incomplete"]
    page.locator(
        f'tr[data-patient="{pseudonym}"] td[data-form="mirror_movements"] a.status-cell'
    ).first.click()
    save(page, "complete")
    page.goto("/")
    assert cell_colour(page, pseudonym, "mirror_movements") == STATUS_COLOURS["complete"]
    page.screenshot(path="/tmp/registry-dashboard.png", full_page=False)

    stored = Submission.objects.get()
    assert stored.status == "complete"
    assert stored.data == {
        "mm_age_months": 36,
        "mm_present": "1",
        "onset_early_childhood": ["1"],
        "body_regions": ["distal"],
        "wt_grade_left_task": "2",
    }


def test_a_calculation_updates_as_the_coordinator_types(
    page, coordinator_a, patient_a, registry_forms
):
    log_in(page, "coord_a", DEFAULT_PASSWORD)
    page.goto(f"/patients/{patient_a.pseudonym}/follow_up/new/")
    months = page.locator("#field-months_since_surgery")
    assert months.is_hidden()  # shown only once both ages are given
    page.get_by_label("Age at follow-up (months)").fill("36")
    page.get_by_label("Age at the last surgery (days)").fill("10")
    assert months.is_visible() and months.text_content() == "35.7"
    page.get_by_label("Age at follow-up (months)").fill("72")
    assert months.text_content() == "71.7"
    page.locator("input[name=fu_status][value=alive]").check()
    save(page, "complete")
    assert Submission.objects.get().data["months_since_surgery"] == 71.7
    assert page.locator("#field-months_since_surgery").text_content() == "71.7"


def test_a_conflict_keeps_the_second_persons_input(
    browser, live_server, coordinator_a, patient_a, registry_forms
):
    first, second = (
        browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
        for _ in range(2)
    )
    try:
        pages = [context.new_page() for context in (first, second)]
        for page in pages:
            log_in(page, "coord_a", DEFAULT_PASSWORD)
        address = f"/patients/{patient_a.pseudonym}/enrollment/1/"
        pages[0].goto(address)
        pages[0].get_by_label("Age at enrolment (months)").fill("36")
        pages[0].locator("input[name=handedness][value=right]").check()
        pages[0].locator("input[name=consent_registry][value='1']").check()
        pages[0].locator("input[name=consent_recontact][value='1']").check()
        pages[0].locator("#field-primary_diagnosis").select_option("cmmc")
        save(pages[0], "complete")
        pages[1].goto(address)
        pages[0].reload()
        pages[0].get_by_label("Age at enrolment (months)").fill("40")
        save(pages[0], "complete")
        pages[1].get_by_label("Age at enrolment (months)").fill("48")
        save(pages[1], "complete")
        assert "someone else changed this form" in pages[1].locator("#conflict").text_content()
        assert pages[1].locator("#field-enrol_age_months").input_value() == "48"
        assert re.search(r"40\s*48", pages[1].locator("#conflict table").inner_text())
        assert Submission.objects.get().data["enrol_age_months"] == 40
        pages[1].screenshot(path="/tmp/registry-conflict.png", full_page=False)
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize("width", [768, 1280])
def test_pages_fit_a_tablet_and_a_ward_pc_without_sideways_scrolling(
    browser, live_server, coordinator_a, patient_a, registry_forms, width
):
    context = browser.new_context(
        viewport={"width": width, "height": 1024}, base_url=live_server.url
    )
    try:
        page = context.new_page()
        log_in(page, "coord_a", DEFAULT_PASSWORD)
        for address in (
            "/",
            f"/patients/{patient_a.pseudonym}/",
            f"/patients/{patient_a.pseudonym}/mirror_movements/new/",
            "/enrol/",
            "/queries/",
        ):
            page.goto(address)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{address} scrolls sideways by {overflow}px at {width}px"
        page.goto(f"/patients/{patient_a.pseudonym}/mirror_movements/new/")
        page.locator("input[name=mm_present][value='1']").check()
        page.locator("#field-wt_grade_left_task").scroll_into_view_if_needed()
        page.screenshot(path=f"/tmp/registry-grades-{width}.png")
    finally:
        context.close()


def test_a_refused_save_keeps_the_status_chosen(page, coordinator_a, patient_a, registry_forms):
    log_in(page, "coord_a", DEFAULT_PASSWORD)
    page.goto(f"/patients/{patient_a.pseudonym}/mirror_movements/new/")
    page.get_by_label("Age at assessment (months)").fill("5000")
    page.locator("input[name=mm_present][value='0']").check()
    save(page, "complete")
    assert "Nothing was saved." in page.locator("#entry-notice").text_content()
    assert page.get_by_label("Form status").input_value() == "complete"
    # Correcting the answer and saving again, without touching the status, saves as complete.
    page.get_by_label("Age at assessment (months)").fill("36")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_load_state()
    assert "Saved Mirror movements #1. Status: Complete." in page.content()
    assert Submission.objects.get().status == "complete"


def test_a_section_header_goes_and_comes_back_with_its_questions(
    page, coordinator_a, patient_a, registry_forms
):
    log_in(page, "coord_a", DEFAULT_PASSWORD)
    page.goto(f"/patients/{patient_a.pseudonym}/mirror_movements/new/")
    # Every question of the Description section waits on "Mirror movements present".
    header = page.get_by_role("heading", name="Description", exact=True)
    assert header.is_hidden()
    assert page.get_by_role("heading", name="Assessment", exact=True).is_visible()
    page.locator("input[name=mm_present][value='1']").check()
    assert header.is_visible() and page.locator("#row-elicited_by").is_visible()
    page.locator("input[name=mm_present][value='0']").check()
    assert header.is_hidden()
    page.locator("input[name=mm_present][value='1']").check()
    assert header.is_visible()
