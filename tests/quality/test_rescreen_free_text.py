"""Re-screening stored free text: the identifier_in_free_text rule and its command."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from registry.audit.models import AuditEvent
from registry.formengine.phi import PHI_CATEGORIES
from registry.quality import checks
from registry.quality.models import IssueStatus, QualityIssue
from registry.submissions.models import Submission
from tests.quality.builders import ENROLMENT, LESION, clean_patient, stored

# The command starts a job run, queued on commit: the runs are real transactions, and tasks
# run in this process.
pytestmark = pytest.mark.django_db(transaction=True)

NOTE = "Scoliosis. Seen by Sara Ahmadi; mother's mobile 0912 345 6789"


def _hold_note(site, field_values):
    who = clean_patient(site)
    submission = who.submissions.get(form__name="enrollment")
    Submission.objects.filter(pk=submission.pk).update(data={**ENROLMENT, **field_values})
    return who, submission


@pytest.mark.django_db(transaction=False)
def test_every_kind_of_identifier_has_words_in_the_finding():
    assert set(PHI_CATEGORIES) <= set(checks._IDENTIFIER_KINDS)


def test_stored_identifiers_raise_one_issue_per_field_without_the_text_or_a_change(
    forms, site_a, eager_tasks
):
    who, submission = _hold_note(site_a, {"other_diagnoses": NOTE})
    lesion = stored(
        who,
        "dysraphic_lesion",
        {**LESION, "mri_findings": "chr16:29,624,556-30,199,850 deletion, NM_000518.5:c.92+1G>A"},
        instance=2,
    )
    before = Submission.objects.get(pk=submission.pk).data
    out = io.StringIO()
    call_command("rescreen_free_text", stdout=out)

    issues = list(QualityIssue.objects.filter(rule="identifier_in_free_text"))
    assert [(issue.submission_id, issue.field) for issue in issues] == [
        (submission.pk, "other_diagnoses")
    ]
    message = issues[0].message
    assert "a name" in message and "a phone number" in message
    assert "Ahmadi" not in message and "0912" not in message
    # The same field is not reported a second time as an invalid value.
    assert not QualityIssue.objects.filter(rule="invalid_value", field="other_diagnoses")
    assert not QualityIssue.objects.filter(submission=lesion, rule="identifier_in_free_text")
    assert Submission.objects.get(pk=submission.pk).data == before
    assert "1 open issue(s)" in out.getvalue()
    assert AuditEvent.objects.filter(action="quality.run").exists()


def test_running_the_sweep_again_raises_no_second_issue_and_a_cleaned_note_resolves_it(
    forms, site_a, eager_tasks
):
    _, submission = _hold_note(site_a, {"other_diagnoses": NOTE})
    call_command("rescreen_free_text", stdout=io.StringIO())
    call_command("rescreen_free_text", stdout=io.StringIO())
    assert QualityIssue.objects.filter(rule="identifier_in_free_text").count() == 1

    Submission.objects.filter(pk=submission.pk).update(
        data={**ENROLMENT, "other_diagnoses": "Scoliosis"}
    )
    call_command("rescreen_free_text", stdout=io.StringIO())
    issue = QualityIssue.objects.get(rule="identifier_in_free_text")
    assert issue.status != IssueStatus.OPEN


def test_free_text_a_form_opts_out_of_screening_is_not_reported(forms, site_a, eager_tasks):
    # gene_other says phi_screen: false (its pattern keeps identifiers out instead).
    _hold_note(site_a, {"genetic_testing": "1", "gene": "other", "gene_other": "Sara Ahmadi"})
    call_command("rescreen_free_text", stdout=io.StringIO())
    assert not QualityIssue.objects.filter(rule="identifier_in_free_text")
