"""Issues across runs: not duplicated, resolved when fixed, accepted stays accepted; incremental
runs check only what changed; the index cases raise no false alarm."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from registry.audit.models import AuditEvent
from registry.demo.services import do_load_demo, load_index_cases
from registry.jobs.models import JobKind, JobRun, JobStatus
from registry.patients.models import Patient
from registry.patients.services import pseudonym_for
from registry.people.models import Site
from registry.quality.models import IssueStatus, QualityIssue
from registry.quality.rules import QualityRulesError, load_rules_file
from registry.quality.services import do_accept_quality_issue, do_run_quality_checks
from registry.statistics.catalogue import form_catalogue
from registry.submissions.models import Submission
from tests.quality.builders import LESION, clean_patient

pytestmark = pytest.mark.django_db


def break_level(who: Patient, level: str = "lumbar") -> None:
    lesion = who.submissions.get(form__name="dysraphic_lesion")
    Submission.objects.filter(pk=lesion.pk).update(
        data={**LESION, "lesion_level": level}, updated_at=timezone.now()
    )


def test_the_index_cases_raise_no_false_alarm(forms):
    do_load_demo(synthetic_patients=0)
    counts = do_run_quality_checks(None, full=True)
    assert counts["submissions_checked"] == 12
    assert list(QualityIssue.objects.values_list("rule", "message")) == []


def test_the_index_cases_raise_no_false_alarm_among_the_demo_patients(forms):
    do_load_demo()
    do_run_quality_checks(None, full=True)
    home = Site.objects.get(code="TUMS")
    index_pseudonyms = [pseudonym_for(home, case["local_id"]) for case in load_index_cases()]
    assert QualityIssue.objects.filter(patient__pseudonym__in=index_pseudonyms).count() == 0
    assert QualityIssue.objects.exists()  # the synthetic patients' deliberate mistakes


def test_running_again_does_not_duplicate_issues(forms, site_a):
    break_level(clean_patient(site_a))
    first = do_run_quality_checks(None, full=True)
    second = do_run_quality_checks(None, full=True)
    assert first["new"] == 1 and second["new"] == 0 and second["seen_again"] == 1
    assert QualityIssue.objects.count() == 1


def test_fixing_the_data_resolves_the_issue(forms, site_a):
    who = clean_patient(site_a)
    break_level(who)
    do_run_quality_checks(None, full=True)
    break_level(who, "c4")
    counts = do_run_quality_checks(None, full=True)
    issue = QualityIssue.objects.get()
    assert counts["resolved"] == 1
    assert issue.status == IssueStatus.RESOLVED and issue.resolved_at is not None


def test_a_problem_that_comes_back_reopens_its_issue(forms, site_a):
    who = clean_patient(site_a)
    break_level(who)
    do_run_quality_checks(None, full=True)
    break_level(who, "c4")
    do_run_quality_checks(None, full=True)
    break_level(who)
    counts = do_run_quality_checks(None, full=True)
    assert counts["reopened"] == 1
    assert QualityIssue.objects.get().status == IssueStatus.OPEN


def test_an_accepted_issue_stays_accepted(forms, site_a, curator):
    break_level(clean_patient(site_a))
    do_run_quality_checks(None, full=True)
    issue = QualityIssue.objects.get()
    do_accept_quality_issue(curator, issue, "Confirmed on the operative report.")
    do_run_quality_checks(None, full=True)
    issue.refresh_from_db()
    assert issue.status == IssueStatus.ACCEPTED
    assert issue.accepted_by == curator and issue.accepted_reason.startswith("Confirmed")
    assert AuditEvent.objects.filter(action="quality_issue.accept").count() == 1


def test_accepting_needs_a_curator_and_a_reason(forms, site_a, coordinator_a, curator):
    break_level(clean_patient(site_a))
    do_run_quality_checks(None, full=True)
    issue = QualityIssue.objects.get()
    with pytest.raises(PermissionDenied):
        do_accept_quality_issue(coordinator_a, issue, "It is right, trust me.")
    with pytest.raises(ValidationError):
        do_accept_quality_issue(curator, issue, "ok")
    issue.refresh_from_db()
    assert issue.status == IssueStatus.OPEN


def _succeeded_run(started: dt.datetime) -> JobRun:
    return JobRun.objects.create(
        kind=JobKind.QUALITY, status=JobStatus.SUCCEEDED, started_at=started, finished_at=started
    )


def test_an_incremental_run_checks_only_patients_changed_since_the_last_run(forms, site_a):
    changed = clean_patient(site_a)
    untouched = clean_patient(site_a)
    _succeeded_run(timezone.now())
    break_level(changed)
    # A problem slipped into an unchanged record (its update time untouched) waits for a
    # full run.
    lesion = untouched.submissions.get(form__name="dysraphic_lesion")
    Submission.objects.filter(pk=lesion.pk).update(data={**LESION, "lesion_level": "sacral"})

    counts = do_run_quality_checks(None)
    assert counts["mode"] == "incremental" and counts["patients_checked"] == 1
    assert set(QualityIssue.objects.values_list("patient", flat=True)) == {changed.pk}

    counts = do_run_quality_checks(None, full=True)
    assert counts["mode"] == "full" and counts["patients_checked"] == 2
    assert set(QualityIssue.objects.values_list("patient", flat=True)) == {changed.pk, untouched.pk}


def test_an_incremental_run_resolves_what_was_fixed_and_leaves_others_alone(forms, site_a):
    fixed = clean_patient(site_a)
    other = clean_patient(site_a)
    break_level(fixed)
    break_level(other)
    do_run_quality_checks(None, full=True)
    _succeeded_run(timezone.now())
    break_level(fixed, "c4")
    do_run_quality_checks(None)
    statuses = dict(QualityIssue.objects.values_list("patient", "status"))
    assert statuses == {fixed.pk: IssueStatus.RESOLVED, other.pk: IssueStatus.OPEN}


def test_without_an_earlier_run_an_incremental_run_checks_everything(forms, site_a):
    clean_patient(site_a)
    assert do_run_quality_checks(None)["mode"] == "full"


def test_a_run_is_audited_once_with_its_counts(forms, site_a):
    break_level(clean_patient(site_a))
    do_run_quality_checks(None, full=True)
    event = AuditEvent.objects.get(action="quality.run")
    assert event.context["new"] == 1 and event.context["mode"] == "full"


def test_custom_rules_with_mistakes_are_refused_with_their_place(tmp_path, forms):
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n"
        "  - code: bad_rule\n    form: follow_up\n    severity: warning\n"
        '    title: A typo\n    when: "[fu_agee_months] > 12"\n    message: Whatever.\n',
        encoding="utf-8",
    )
    with pytest.raises(QualityRulesError) as raised:
        load_rules_file({"follow_up": form_catalogue()["follow_up"].harmonisation}, path)
    (problem,) = raised.value.problems
    assert "rules[0]" in problem and "fu_agee_months" in problem
    assert "did you mean fu_age_months" in problem


def test_the_shipped_custom_rules_load(forms):
    from registry.quality.services import rules_file
    from registry.statistics.catalogue import form_catalogue

    loaded = rules_file(form_catalogue())
    codes = {rule.code for rule in loaded.custom}
    assert {"physiological_mm_after_10", "mmc_level_outside_cervical"} <= codes
    assert ("surgery", "lesion_instance") in loaded.outlier_sd_skip
