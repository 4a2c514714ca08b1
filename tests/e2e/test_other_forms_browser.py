"""Branching and calculations that read another form, live in the browser."""

import pytest

from registry.submissions.models import Submission
from registry.submissions.services import do_save_submission
from tests.e2e.browsing import log_in, save
from tests.factories import DEFAULT_PASSWORD, PatientFactory
from tests.other_forms import publish_intake_and_visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_question_shown_by_another_forms_answer_and_a_calc_reading_it(
    page, coordinator_a, site_a
):
    intake, _ = publish_intake_and_visit()
    smoker = PatientFactory(site=site_a, pseudonym="SITEA-00071")
    non_smoker = PatientFactory(site=site_a, pseudonym="SITEA-00072")
    do_save_submission(coordinator_a, smoker, intake, {"weight_kg": "30", "smoker": "1"})
    do_save_submission(coordinator_a, non_smoker, intake, {"weight_kg": "21", "smoker": "0"})
    log_in(page, "coord_a", DEFAULT_PASSWORD)

    page.goto(f"/patients/{non_smoker.pseudonym}/visit/new/")
    assert page.locator("#row-cigs_day").is_hidden()
    assert page.locator("#field-dose_mg").text_content() == "42"
    shown = page.locator(".other-form-answers").inner_text()
    assert "Smokes (Intake)" in shown and "Weight (kg) (Intake)" in shown

    page.goto(f"/patients/{smoker.pseudonym}/visit/new/")
    cigarettes = page.locator("#row-cigs_day")
    assert cigarettes.is_visible()
    assert page.locator("#field-dose_mg").text_content() == "60"
    # The other form's answers are shown, not offered for editing.
    assert page.locator(".other-form-answers input").count() == 0
    page.get_by_label("Cigarettes a day").fill("4")
    page.get_by_label("Age at visit (months)").fill("50")
    save(page, "complete")
    assert Submission.objects.get(patient=smoker, form__name="visit").data == {
        "visit_age_months": 50,
        "cigs_day": 4,
        "dose_mg": 60,
    }
