"""A coordinator finds a patient from the dashboard by typing the hospital number."""

import pytest

from registry.patients.selectors import pseudonym_for
from tests.e2e.browsing import log_in
from tests.factories import DEFAULT_PASSWORD, PatientFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOCAL_ID = "WARD4-300122"


def test_typing_the_hospital_number_opens_the_patients_page(page, coordinator_a, site_a):
    patient = PatientFactory(site=site_a, pseudonym=pseudonym_for(site_a, LOCAL_ID))
    log_in(page, "coord_a", DEFAULT_PASSWORD)
    page.goto("/")
    box = page.locator("form.find-by-local-id").get_by_label("Local hospital ID")
    assert box.get_attribute("autocomplete") == "off"
    box.fill(f" {LOCAL_ID.lower()} ")
    page.get_by_role("button", name="Find patient").click()
    page.wait_for_url(f"**/patients/{patient.pseudonym}/")
    assert patient.pseudonym in page.content()
    assert LOCAL_ID not in page.url and LOCAL_ID.lower() not in page.content().lower()

    # A number enrolled nowhere: the dashboard again, saying so, with the box empty.
    page.goto("/")
    box.fill("WARD4-999999")
    page.get_by_role("button", name="Find patient").click()
    page.wait_for_load_state()
    assert page.url.endswith("/") and "WARD4-999999" not in page.url
    assert "No patient with that hospital number at your sites." in page.content()
    assert box.input_value() == ""
    assert "WARD4-999999" not in page.content()
