"""@IF in a real browser: decided with the saved answers when the page opens, limits that
follow the answers as they change."""

import pytest

from registry.submissions.models import Submission
from tests.e2e.browsing import log_in, save
from tests.factories import DEFAULT_PASSWORD, assessment_schema, publish_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def conditional_form():
    raw = assessment_schema()
    raw["fields"] += [
        {
            "name": "brief",
            "type": "notes",
            "label": "Brief note",
            "annotation": "@IF([mm_present] = '1', @CHARLIMIT=5, @CHARLIMIT=40)",
        },
        {
            "name": "extra",
            "type": "text",
            "label": "Extra",
            "annotation": "@IF([mm_present] = '0', @HIDDEN, '')",
        },
        {
            "name": "signs",
            "type": "checkbox",
            "label": "Signs",
            "choices": [{"code": code, "label": f"Sign {code}"} for code in "abc"],
            "annotation": "@IF([age_months] > 12, @MAXCHECKED=1, '')",
        },
    ]
    return publish_form(raw)


def test_if_limits_follow_the_answers_and_hidden_follows_the_saved_ones(
    page, coordinator_a, patient_a, conditional_form
):
    log_in(page, "coord_a", DEFAULT_PASSWORD)
    page.goto(f"/patients/{patient_a.pseudonym}/assessment/new/")
    brief = page.locator("#field-brief")
    assert brief.get_attribute("maxlength") == "40"
    page.locator("input[name=mm_present][value='1']").check()
    assert brief.get_attribute("maxlength") == "5"
    brief.fill("far too long")
    assert brief.input_value() == "far t"
    page.locator("input[name=mm_present][value='0']").check()
    assert brief.get_attribute("maxlength") == "40"

    page.get_by_label("Age at assessment (months)").fill("24")
    page.get_by_label("Sign a").check()
    assert page.get_by_label("Sign b").is_disabled()
    page.get_by_label("Sign a").uncheck()
    assert page.get_by_label("Sign b").is_enabled()
    page.get_by_label("Sign b").check()
    assert page.locator("#field-extra").is_visible()
    save(page, "incomplete")
    assert Submission.objects.get().data == {
        "age_months": 24,
        "mm_present": "0",
        "brief": "far t",
        "signs": ["b"],
    }
    # Opened again, the saved "no" decides the @IF: the field is off the page.
    page.reload()
    assert page.locator("#field-extra").count() == 0


@pytest.fixture
def hpo_form():
    raw = assessment_schema()
    raw["fields"].append(
        {"name": "phenotype", "type": "text", "label": "Phenotype", "ontology": "HP"}
    )
    return publish_form(raw)


def test_an_hpo_field_suggests_terms_from_the_registrys_release(
    page, coordinator_a, patient_a, hpo_form
):
    log_in(page, "coord_a", DEFAULT_PASSWORD)
    page.goto(f"/patients/{patient_a.pseudonym}/assessment/new/")
    box = page.locator("#field-phenotype")
    box.press_sequentially("seizu")
    options = page.locator("#field-phenotype-terms option")
    options.first.wait_for(state="attached")
    assert options.first.get_attribute("value") == "HP:0001250"
    box.fill("HP:0001250")
    label = page.locator('[data-hpo-label="phenotype"]')
    page.wait_for_function(
        "document.querySelector('[data-hpo-label=\"phenotype\"]').textContent === 'Seizure'"
    )
    assert label.text_content() == "Seizure"
