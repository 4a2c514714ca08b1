"""Data entry: forms rendered from their schema, saved through the one engine, never lost."""

import json
import re

import pytest

from registry.audit.models import AuditEvent
from registry.crfs.selectors import schema_of
from registry.curation.review import do_lock_submission
from registry.formengine import logic
from registry.submissions.models import Submission
from tests.factories import enter_submission, publish_form
from tests.web.helpers import MM_PRESENT, post_form

pytestmark = pytest.mark.django_db


def url(patient, form, instance="new"):
    return f"/patients/{patient.pseudonym}/{form}/{instance}/"


def field_block(page: str, name: str) -> str:
    """The HTML of one field's row (its wrapper down to the next field's)."""
    start = page.index(f'data-field="{name}"')
    following = page.find('data-field="', start + 20)
    return page[start : following if following > 0 else None]


# --------------------------------------------------------------------------------------------
# Rendering


def test_a_form_is_rendered_from_its_schema(client_a, patient_a, registry_forms):
    page = client_a.get(url(patient_a, "mirror_movements")).content.decode()
    # Section headers, labels bound to inputs, field notes and validation hints.
    assert '<h2 class="h5 form-section-title">Assessment</h2>' in page
    assert '<h2 class="h5 form-section-title">Severity: Woods &amp; Teuber grade</h2>' in page
    assert 'for="field-mm_age_months"' in page and 'id="field-mm_age_months"' in page
    age = field_block(page, "mm_age_months")
    assert "Completed months of age on the day of the examination" in age
    assert "A whole number from 0 to 1200." in age and 'inputmode="numeric"' in age
    assert "asteriskField" in age  # required marker
    # Yes/no and radio groups are fieldsets with a legend; checkbox lists too.
    present = field_block(page, "mm_present")
    assert '<fieldset id="field-mm_present"' in present and "<legend" in present
    assert 'type="radio"' in present and "(required)" in present
    assert 'type="checkbox" class="form-check-input" name="body_regions" value="distal"' in page
    # The two Woods & Teuber grades share their choices: one compact table.
    assert 'data-matrix="wt_grades"' in page
    assert '<tr id="field-wt_grade_left_task"' in page
    assert '<tr id="field-wt_grade_right_task"' in page
    # Notes are text areas.
    assert re.search(r'<textarea[^>]*name="neuro_other_findings"', page)


def test_branching_logic_and_calculations_travel_as_the_servers_json_trees(
    client_a, patient_a, registry_forms
):
    page = client_a.get(url(patient_a, "follow_up")).content.decode()
    raw = re.search(r'<script id="entry-logic" type="application/json">(.*?)</script>', page, re.S)[
        1
    ]
    config = json.loads(raw)
    schema = schema_of(registry_forms["follow_up", 1])
    calc_field = schema.field("months_since_surgery")
    assert config["fields"]["months_since_surgery"]["calc"] == logic.to_json(calc_field.calc_logic)
    assert config["fields"]["fu_mm_status"]["show_if"] == logic.to_json(
        schema.field("fu_mm_status").show_if_logic
    )
    assert config["order"] == [f.name for f in schema.evaluation_order]
    assert config["missingCodes"] == ["UNK"]
    # The calculated field is shown read-only, and the scripts are served locally.
    assert re.search(r'<output id="field-months_since_surgery"[^>]*data-calc=', page)
    assert "/static/formengine/logic.js" in page and "/static/js/data_entry.js" in page


def test_dropdowns_offer_the_missing_data_codes(client_a, patient_a, registry_forms):
    page = client_a.get(url(patient_a, "dysraphic_lesion")).content.decode()
    level = field_block(page, "lesion_level")
    assert '<select name="lesion_level"' in level
    assert '<optgroup label="Missing data">' in level and 'value="UNK"' in level


def test_descriptive_text_sliders_and_date_hints(client_a, patient_a):
    publish_form(
        {
            "form": "scales",
            "version": 1,
            "title": "Scales",
            "repeatable": True,
            "fields": [
                {"name": "intro", "type": "descriptive", "label": "Ask the child to <b>relax</b>."},
                {
                    "name": "effort",
                    "type": "slider",
                    "label": "Effort",
                    "slider": {"left": "None", "right": "Maximal", "show_number": True},
                },
                {"name": "seen_on", "type": "text", "validation": "date_ymd", "label": "Lab date"},
            ],
        }
    )
    page = client_a.get(url(patient_a, "scales")).content.decode()
    assert '<p id="field-intro">Ask the child to relax .</p>' in page
    slider = field_block(page, "effort")
    assert 'type="range"' in slider and "Maximal" in slider and 'data-blank="1"' in slider
    assert 'placeholder="YYYY-MM-DD"' in page and "A date written YYYY-MM-DD." in page
    response = post_form(client_a, url(patient_a, "scales"), {"effort": "40", "_version": "1"})
    assert response.status_code == 302
    assert Submission.objects.get().data == {"effort": 40}
    assert 'name="effort" value="40"' in client_a.get(response["Location"]).content.decode()
    assert (
        '<output class="slider-value" data-slider-value="effort">40</output>'
        in client_a.get(response["Location"]).content.decode()
    )


# --------------------------------------------------------------------------------------------
# Saving


def test_saving_a_new_assessment_stores_typed_data_and_audits_it(
    client_a, patient_a, registry_forms
):
    response = post_form(
        client_a, url(patient_a, "mirror_movements"), MM_PRESENT, status="complete"
    )
    submission = Submission.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url(patient_a, "mirror_movements", 1)
    assert submission.data == {
        "mm_age_months": 36,
        "mm_present": "1",
        "elicited_by": "both",
        "body_regions": ["distal"],
        "wt_grade_left_task": "2",
    }
    assert submission.status == "complete" and submission.form_version.number == 2
    event = AuditEvent.objects.get(action="submission.create")
    assert event.changes["mm_age_months"] == [None, 36]
    page = client_a.get(response["Location"]).content.decode()
    assert "Saved Mirror movements #1. Status: Complete." in page


def test_errors_are_shown_next_to_their_fields_with_the_answers_kept(
    client_a, patient_a, registry_forms
):
    response = post_form(
        client_a, url(patient_a, "mirror_movements"), {**MM_PRESENT, "mm_age_months": "3 years"}
    )
    page = response.content.decode()
    assert response.status_code == 200 and not Submission.objects.exists()
    age = field_block(page, "mm_age_months")
    assert "Age at assessment (months) must be a whole number between 0 and 1200" in age
    assert 'value="3 years"' in age and 'aria-invalid="true"' in age
    assert re.search(r'value="distal" id="field-body_regions_0" checked', page)
    assert re.search(r'name="wt_grade_left_task" value="2"[^>]*checked', page)
    assert "Nothing was saved." in page


def chosen_status(page: str) -> str:
    select = page[page.index('<select name="_status"') : page.index("</select>")]
    return re.findall(r'<option value="(\w+)" selected>', select)


@pytest.mark.parametrize("status", ["unverified", "complete"])
def test_a_refused_save_keeps_the_status_chosen(client_a, patient_a, registry_forms, status):
    refused = {**MM_PRESENT, "mm_age_months": "5000"}
    response = post_form(client_a, url(patient_a, "mirror_movements"), refused, status=status)
    assert response.status_code == 200 and not Submission.objects.exists()
    assert chosen_status(response.content.decode()) == [status]
    # The same on a form already saved as incomplete: the choice, not the stored status.
    post_form(client_a, url(patient_a, "mirror_movements"), MM_PRESENT, _client_uuid="")
    again = post_form(
        client_a, url(patient_a, "mirror_movements", 1), refused, status=status, row_version=1
    )
    assert Submission.objects.get().status == "incomplete"
    assert chosen_status(again.content.decode()) == [status]


def test_the_status_shown_is_the_stored_one_or_incomplete_for_a_new_form(
    client_a, coordinator_a, patient_a, registry_forms
):
    assert chosen_status(client_a.get(url(patient_a, "mirror_movements")).content.decode()) == [
        "incomplete"
    ]
    enter_submission(
        coordinator_a,
        patient_a,
        registry_forms["mirror_movements", 2],
        MM_PRESENT,
        status="unverified",
    )
    page = client_a.get(url(patient_a, "mirror_movements", 1)).content.decode()
    assert chosen_status(page) == ["unverified"]


def section_of(page: str, field: str) -> str:
    """The opening tag of the section holding a field."""
    before = page[: page.index(f'id="row-{field}"')]
    return re.findall(r'<div\s+class="form-section"[^>]*>', before)[-1]


def test_a_section_whose_questions_are_all_hidden_is_hidden_when_the_page_opens(
    client_a, coordinator_a, patient_a, registry_forms
):
    # A new form: nothing answered, so "Mirror movements present" gates every question of
    # the Description section, and the section opens hidden with its header.
    page = client_a.get(url(patient_a, "mirror_movements")).content.decode()
    assert "hidden" in section_of(page, "elicited_by")
    assert "hidden" not in section_of(page, "mm_age_months")
    # Saved with the gate at No: still hidden; sent back unsaved with Yes: shown.
    enter_submission(
        coordinator_a,
        patient_a,
        registry_forms["mirror_movements", 2],
        {"mm_age_months": "36", "mm_present": "0"},
    )
    page = client_a.get(url(patient_a, "mirror_movements", 1)).content.decode()
    assert "hidden" in section_of(page, "elicited_by")
    refused = post_form(
        client_a,
        url(patient_a, "mirror_movements", 1),
        {**MM_PRESENT, "mm_age_months": "5000"},
        row_version=1,
    )
    assert "hidden" not in section_of(refused.content.decode(), "elicited_by")
    page = client_a.get(url(patient_a, "mirror_movements", 1)).content.decode()
    assert "hidden" in section_of(page, "elicited_by")


def test_a_check_of_the_form_names_its_field(client_a, patient_a, registry_forms):
    page = post_form(
        client_a,
        url(patient_a, "enrollment", 1),
        {
            "enrol_age_months": "36",
            "handedness": "right",
            "consent_registry": "0",
            "consent_recontact": "1",
            "primary_diagnosis": "cmmc",
        },
    ).content.decode()
    assert "Consent to registry participation must be Yes" in field_block(page, "consent_registry")
    assert not Submission.objects.exists()


def test_hidden_answers_are_cleared_and_the_page_says_which(client_a, patient_a, registry_forms):
    response = post_form(
        client_a, url(patient_a, "mirror_movements"), {**MM_PRESENT, "mm_present": "0"}
    )
    assert Submission.objects.get().data == {"mm_age_months": 36, "mm_present": "0"}
    page = client_a.get(response["Location"]).content.decode()
    assert "their questions are not asked" in page
    assert "Mirror movements appear during; Body regions that mirror; Left-hand task" in page
    event = AuditEvent.objects.get(action="submission.create")
    assert event.context["cleared_hidden"] == ["elicited_by", "body_regions", "wt_grade_left_task"]


def test_editing_keeps_the_values_and_records_a_field_level_diff(
    client_a, patient_a, registry_forms
):
    post_form(client_a, url(patient_a, "mirror_movements"), MM_PRESENT)
    page = client_a.get(url(patient_a, "mirror_movements", 1)).content.decode()
    assert 'name="_row_version" value="1"' in page
    assert re.search(r'name="mm_age_months" value="36"', page)
    response = post_form(
        client_a,
        url(patient_a, "mirror_movements", 1),
        {**MM_PRESENT, "wt_grade_left_task": "3"},
        row_version=1,
        status="unverified",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="submission.update")
    assert event.changes == {
        "wt_grade_left_task": ["2", "3"],
        "status": ["incomplete", "unverified"],
    }
    assert Submission.objects.get().row_version == 2


def test_the_second_of_two_saves_from_the_same_version_is_a_conflict(
    client_a, patient_a, registry_forms
):
    post_form(client_a, url(patient_a, "mirror_movements"), MM_PRESENT)
    first = post_form(
        client_a,
        url(patient_a, "mirror_movements", 1),
        {**MM_PRESENT, "wt_grade_left_task": "3"},
        row_version=1,
    )
    assert first.status_code == 302
    second = post_form(
        client_a,
        url(patient_a, "mirror_movements", 1),
        {**MM_PRESENT, "wt_grade_left_task": "4", "mm_age_months": "40"},
        row_version=1,
    )
    page = second.content.decode()
    assert second.status_code == 409
    assert "someone else changed this form while you were editing it" in page
    assert "nothing was overwritten" in page
    assert 'aria-live="assertive"' in page
    # The person's own answers are still on the page ...
    assert re.search(r'name="mm_age_months" value="40"', page)
    assert re.search(r'name="wt_grade_left_task" value="4"[^>]*checked', page)
    # ... the differences are listed, and the stored data is the first save's.
    assert (
        "<td>3 - Strong repetitive movement</td><td>4 - Equal to the intended movement</td>" in page
    )
    stored = Submission.objects.get()
    assert stored.data["wt_grade_left_task"] == "3" and stored.data["mm_age_months"] == 36
    assert stored.row_version == 2
    assert AuditEvent.objects.filter(action="submission.update").count() == 1


def test_two_people_starting_a_once_per_patient_form_do_not_overwrite(
    client_a, patient_a, registry_forms
):
    enrolment = {
        "enrol_age_months": "36",
        "handedness": "right",
        "consent_registry": "1",
        "consent_recontact": "1",
        "primary_diagnosis": "cmmc",
    }
    assert post_form(client_a, url(patient_a, "enrollment", 1), enrolment).status_code == 302
    late = post_form(client_a, url(patient_a, "enrollment", 1), {**enrolment, "handedness": "left"})
    assert late.status_code == 409
    assert Submission.objects.get().data["handedness"] == "right"


def test_a_locked_submission_is_read_only(
    client_a, coordinator_a, curator, patient_a, registry_forms
):
    submission = enter_submission(
        coordinator_a, patient_a, registry_forms["mirror_movements", 2], MM_PRESENT
    )
    do_lock_submission(curator, submission)
    page = client_a.get(url(patient_a, "mirror_movements", 1)).content.decode()
    assert "A curator has locked this form" in page
    assert 'id="save-button"' not in page
    assert re.search(r'name="mm_age_months" value="36"[^>]*disabled', page)
    response = post_form(
        client_a,
        url(patient_a, "mirror_movements", 1),
        {**MM_PRESENT, "mm_age_months": "99"},
        row_version=1,
    )
    assert "Not saved: a curator locked this form" in response.content.decode()
    assert Submission.objects.get().data["mm_age_months"] == 36


def test_a_save_that_races_a_lock_is_refused_and_keeps_what_was_typed(
    client_a, coordinator_a, curator, patient_a, registry_forms
):
    submission = enter_submission(
        coordinator_a, patient_a, registry_forms["mirror_movements", 2], MM_PRESENT
    )
    page = client_a.get(url(patient_a, "mirror_movements", 1)).content.decode()
    row_version = re.search(r'name="_row_version" value="(\d+)"', page)[1]
    # The coordinator types; a curator locks the form before the save arrives.
    do_lock_submission(curator, submission)
    locked_version = Submission.objects.get().row_version
    last_event = AuditEvent.objects.latest("pk").pk
    response = post_form(
        client_a,
        url(patient_a, "mirror_movements", 1),
        {**MM_PRESENT, "mm_age_months": "99", "wt_grade_left_task": "4"},
        row_version=row_version,
    )
    page = response.content.decode()
    assert response.status_code == 409
    # An error, in the alert style of the other refused saves (not an unstyled message).
    refusal = page[page.index('id="locked-race"') - 40 : page.index("</table>")]
    assert 'class="alert alert-danger conflict" id="locked-race"' in refusal
    assert "a curator locked this form while you were editing it" in refusal
    assert "alert-error" not in page
    # The locked answers beside the typed ones, and the typed ones still in the fields.
    assert '<th scope="col">Locked answer</th>' in refusal
    assert re.search(r"Age at assessment \(months\)</a></th><td>36</td><td>99</td>", refusal)
    assert (
        "<td>2 - Slight but unequivocal repetitive movement</td>"
        "<td>4 - Equal to the intended movement</td>"
    ) in refusal
    assert re.search(r'name="mm_age_months" value="99"[^>]*disabled', page)
    assert re.search(r'name="wt_grade_left_task" value="4"[^>]*checked', page)
    assert 'id="save-button"' not in page
    # Nothing written: the data and its version as locked, and no save in the audit trail.
    stored = Submission.objects.get()
    assert stored.data["mm_age_months"] == 36 and stored.data["wt_grade_left_task"] == "2"
    assert stored.locked and stored.row_version == locked_version
    after = AuditEvent.objects.filter(pk__gt=last_event).values_list("action", flat=True)
    assert list(after) == ["submission.view"]


def test_a_submission_filled_on_an_older_version_opens_on_that_version(
    client_a, coordinator_a, patient_a, registry_forms
):
    enter_submission(
        coordinator_a,
        patient_a,
        registry_forms["mirror_movements", 1],
        {"mm_age_months": "36", "mm_present": "1", "wt_grade": "2"},
    )
    page = client_a.get(url(patient_a, "mirror_movements", 1)).content.decode()
    assert (
        "This form was filled on version 1; a newer version 2 exists. It stays on version 1 "
        "so no data is lost."
    ) in page
    assert 'data-field="wt_grade"' in page and 'data-field="wt_grade_left_task"' not in page
    response = post_form(
        client_a,
        url(patient_a, "mirror_movements", 1),
        {"mm_age_months": "36", "mm_present": "1", "wt_grade": "3"},
        row_version=1,
    )
    assert response.status_code == 302
    stored = Submission.objects.get()
    assert stored.form_version.number == 1 and stored.data["wt_grade"] == "3"


def test_a_paper_form_of_an_older_version_can_be_copied_on_that_version(
    client_a, patient_a, registry_forms
):
    page = client_a.get(url(patient_a, "mirror_movements")).content.decode()
    assert "?version=1" in page
    older = client_a.get(url(patient_a, "mirror_movements") + "?version=1").content.decode()
    assert "You are entering this form on version 1, an older version" in older
    response = post_form(
        client_a,
        url(patient_a, "mirror_movements"),
        {"mm_age_months": "36", "mm_present": "1", "wt_grade": "2"},
        _version="1",
    )
    assert response.status_code == 302
    assert Submission.objects.get().form_version.number == 1
    assert client_a.get(url(patient_a, "mirror_movements") + "?version=7").status_code == 404


def test_add_another_instance_numbers_them(client_a, patient_a, registry_forms):
    for _ in range(2):
        post_form(client_a, url(patient_a, "mirror_movements"), MM_PRESENT, _client_uuid="")
    assert sorted(Submission.objects.values_list("instance", flat=True)) == [1, 2]


def test_a_double_click_on_save_creates_one_instance(client_a, patient_a, registry_forms):
    page = client_a.get(url(patient_a, "mirror_movements")).content.decode()
    key = re.search(r'name="_client_uuid" value="([0-9a-f-]+)"', page)[1]
    for _ in range(2):
        response = post_form(
            client_a, url(patient_a, "mirror_movements"), MM_PRESENT, _client_uuid=key
        )
        assert response.status_code == 302
    assert Submission.objects.count() == 1


def test_calculations_are_computed_by_the_server_and_shown(client_a, patient_a, registry_forms):
    response = post_form(
        client_a,
        url(patient_a, "follow_up"),
        {
            "fu_age_months": "36",
            "age_at_last_surgery_days": "10",
            "fu_status": "alive",
            "months_since_surgery": "999",
        },
    )
    assert Submission.objects.get().data["months_since_surgery"] == 35.7
    page = client_a.get(response["Location"]).content.decode()
    assert re.search(r'<output id="field-months_since_surgery"[^>]*>35.7</output>', page)


def test_a_form_filled_once_per_patient_has_no_new_instance(client_a, patient_a, registry_forms):
    response = client_a.get(url(patient_a, "enrollment"))
    assert response["Location"] == url(patient_a, "enrollment", 1)


# --------------------------------------------------------------------------------------------
# Who may see and change what


def test_another_sites_patients_are_not_found_even_by_guessing(
    client, coordinator_b, patient_a, coordinator_a, registry_forms
):
    enter_submission(coordinator_a, patient_a, registry_forms["mirror_movements", 2], MM_PRESENT)
    client.force_login(coordinator_b)
    for address in (
        f"/patients/{patient_a.pseudonym}/",
        url(patient_a, "mirror_movements"),
        url(patient_a, "mirror_movements", 1),
        url(patient_a, "enrollment", 1),
        url(patient_a, "mirror_movements", 2),
    ):
        assert client.get(address).status_code == 404, address
    response = post_form(
        client,
        url(patient_a, "mirror_movements", 1),
        {**MM_PRESENT, "mm_age_months": "99"},
        row_version=1,
    )
    assert response.status_code == 404
    assert post_form(client, url(patient_a, "mirror_movements"), MM_PRESENT).status_code == 404
    assert Submission.objects.get().data["mm_age_months"] == 36
    assert Submission.objects.count() == 1


def test_researchers_cannot_read_or_enter_data(client, researcher, patient_a, registry_forms):
    client.force_login(researcher)
    response = client.get(url(patient_a, "mirror_movements"))
    assert response.status_code == 403
    assert "Record-level pages are for site coordinators and curators" in response.content.decode()
    assert post_form(client, url(patient_a, "mirror_movements"), MM_PRESENT).status_code == 403
    assert not Submission.objects.exists()


def test_curators_read_forms_but_do_not_enter_data(
    client, curator, coordinator_a, patient_a, registry_forms
):
    enter_submission(coordinator_a, patient_a, registry_forms["mirror_movements", 2], MM_PRESENT)
    client.force_login(curator)
    page = client.get(url(patient_a, "mirror_movements", 1)).content.decode()
    assert "You are reading this form" in page and 'id="save-button"' not in page
    response = post_form(
        client,
        url(patient_a, "mirror_movements", 1),
        {**MM_PRESENT, "mm_age_months": "99"},
        row_version=1,
    )
    assert response.status_code == 403
    assert Submission.objects.get().data["mm_age_months"] == 36


def test_admins_may_enter_data(client, admin_user, patient_a, registry_forms):
    client.force_login(admin_user)
    assert post_form(client, url(patient_a, "mirror_movements"), MM_PRESENT).status_code == 302


def test_unknown_forms_and_instances_are_not_found(client_a, patient_a, registry_forms):
    assert client_a.get(url(patient_a, "no_such_form", 1)).status_code == 404
    assert client_a.get(url(patient_a, "mirror_movements", 3)).status_code == 404
    assert client_a.get("/patients/NOBODY/").status_code == 404


# --------------------------------------------------------------------------------------------
# The patient page


def test_the_patient_page_lists_forms_instances_and_statuses(
    client_a, coordinator_a, patient_a, registry_forms
):
    mm = registry_forms["mirror_movements", 2]
    enter_submission(
        coordinator_a,
        patient_a,
        registry_forms["mirror_movements", 1],
        {"mm_age_months": "30", "mm_present": "0"},
        status="complete",
    )
    enter_submission(coordinator_a, patient_a, mm, MM_PRESENT, status="unverified")
    page = client_a.get(f"/patients/{patient_a.pseudonym}/").content.decode()
    row = re.search(r'<tr data-form="mirror_movements">(.*?)</tr>', page, re.S)[1]
    assert "#1 Complete (version 1)" in " ".join(row.split())
    assert "#2 Unverified" in " ".join(row.split())
    assert url(patient_a, "mirror_movements") in row  # add another
    enrolment = re.search(r'<tr data-form="enrollment">(.*?)</tr>', page, re.S)[1]
    assert "Not started" in enrolment and url(patient_a, "enrollment", 1) in enrolment


def test_a_draft_saves_with_required_answers_missing_and_says_what_is_still_needed(
    client_a, patient_a, registry_forms
):
    response = post_form(
        client_a, url(patient_a, "mirror_movements"), {"mm_age_months": "36"}, status="incomplete"
    )
    assert response.status_code == 302
    assert Submission.objects.get().data == {"mm_age_months": 36}
    page = client_a.get(response["Location"]).content.decode()
    assert "Saved Mirror movements #1. Status: Incomplete." in page
    assert "needed before this form can be saved as complete" in page
    assert "Mirror movements present" in page.split("needed before")[1][:300]


def test_complete_needs_every_required_answer_that_is_shown(client_a, patient_a, registry_forms):
    response = post_form(
        client_a, url(patient_a, "mirror_movements"), {"mm_age_months": "36"}, status="complete"
    )
    assert response.status_code == 200 and not Submission.objects.exists()
    assert "is required" in field_block(response.content.decode(), "mm_present")


# --------------------------------------------------------------------------------------------
# HPO look-ups


@pytest.fixture
def hpo_form():
    from tests.factories import assessment_schema

    raw = assessment_schema()
    raw["fields"].append(
        {"name": "phenotype", "type": "text", "label": "Phenotype", "ontology": "HP"}
    )
    return publish_form(raw)


def test_hpo_terms_are_looked_up_for_signed_in_people_only(client, client_a):
    answer = client_a.get("/ontology/hp/", {"q": "seizure"}).json()
    assert answer["terms"][0] == {"id": "HP:0001250", "name": "Seizure"}
    assert answer["release"].startswith("20")
    assert client_a.get("/ontology/hp/", {"q": "HP:0001250"}).json()["terms"] == [
        {"id": "HP:0001250", "name": "Seizure"}
    ]
    too_long = client_a.get("/ontology/hp/", {"q": "a" * 101})
    assert too_long.status_code == 400 and "at most 100" in too_long.json()["error"]
    client.logout()
    refused = client.get("/ontology/hp/", {"q": "seizure"})
    assert refused.status_code == 403 and "terms" not in refused.json()


def test_an_hpo_field_shows_its_terms_name_and_refuses_an_unknown_term(
    client_a, patient_a, hpo_form
):
    response = post_form(
        client_a,
        url(patient_a, "assessment"),
        {"age_months": "3", "mm_present": "0", "phenotype": "HP:9999999"},
    )
    page = response.content.decode()
    assert "Phenotype: HP:9999999 is not a term of the Human Phenotype Ontology" in page
    assert not Submission.objects.exists()
    post_form(
        client_a,
        url(patient_a, "assessment"),
        {"age_months": "3", "mm_present": "0", "phenotype": "HP:0001250"},
    )
    assert Submission.objects.get().data["phenotype"] == "HP:0001250"
    block = field_block(client_a.get(url(patient_a, "assessment", 1)).content.decode(), "phenotype")
    assert 'data-hpo-lookup="/ontology/hp/"' in block
    assert 'data-hpo-label="phenotype">Seizure</span>' in block
