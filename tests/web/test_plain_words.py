"""The coordinator pages speak whole sentences: a form's title is never pasted after an article
("Add a mirror movements"), and a status shows by its label, never its stored code."""

import pytest

from tests.factories import enter_submission
from tests.web.helpers import post_form

pytestmark = pytest.mark.django_db

MM_ABSENT = {"mm_age_months": "36", "mm_present": "0"}


def test_the_patient_page_offers_a_new_form_by_its_title(client_a, patient_a, registry_forms):
    page = client_a.get(f"/patients/{patient_a.pseudonym}/").content.decode()
    assert "New Mirror movements form</a>" in page and "New Surgery form</a>" in page
    assert "Add a mirror movements" not in page and "Add a " not in page


def test_the_dashboard_names_a_cells_status_by_its_label(
    client_a, coordinator_a, patient_a, registry_forms
):
    mm = registry_forms["mirror_movements", 2]
    enter_submission(coordinator_a, patient_a, mm, MM_ABSENT, status="unverified")
    page = client_a.get("/").content.decode()
    assert 'title="Mirror movements #1: Unverified"' in page
    assert ": unverified" not in page
    assert 'title="New Mirror movements form"' in page and "Add a " not in page
    assert 'title="Enrolment: Not started"' in page


def test_saving_a_form_says_its_status_by_its_label(client_a, patient_a, registry_forms):
    path = f"/patients/{patient_a.pseudonym}/mirror_movements/new/"
    response = post_form(client_a, path, MM_ABSENT, status="unverified")
    page = client_a.get(response["Location"]).content.decode()
    assert "Saved Mirror movements #1. Status: Unverified." in page
    assert "as unverified" not in page
