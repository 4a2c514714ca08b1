"""Near-duplicate patients in incremental runs: the findings a full run would give."""

from __future__ import annotations

import pytest
from django.utils import timezone

from registry.jobs.models import JobKind, JobRun, JobStatus
from registry.patients.models import Patient
from registry.quality.models import IssueStatus, QualityIssue
from registry.quality.services import do_run_quality_checks
from registry.submissions.models import Submission
from tests.quality.builders import LESION, SURGERY, clean_patient, stored

pytestmark = pytest.mark.django_db


def near_duplicates() -> dict[int, list[int]]:
    """Open near-duplicate findings: patient -> the patients it resembles."""
    return {
        issue.patient_id: [match["patient_id"] for match in issue.details["matches"]]
        for issue in QualityIssue.objects.filter(
            rule="near_duplicate_patient", status=IssueStatus.OPEN
        )
    }


def last_run_now() -> None:
    now = timezone.now()
    JobRun.objects.create(
        kind=JobKind.QUALITY, status=JobStatus.SUCCEEDED, started_at=now, finished_at=now
    )


def saved(who: Patient, form: str | None = None, **data: object) -> None:
    """The patient's form (all of them without `form`) saved again, with `data` changed."""
    submissions = Submission.objects.filter(patient=who)
    if form is not None:
        submissions = submissions.filter(form__name=form)
    for submission in submissions:
        Submission.objects.filter(pk=submission.pk).update(
            data={**submission.data, **data}, updated_at=timezone.now()
        )


def test_an_incremental_run_finds_the_near_duplicate_of_a_changed_patient(forms, site_a, site_b):
    first = clean_patient(site_a, year_of_birth=2012)
    twin = clean_patient(site_b, year_of_birth=2012)
    clean_patient(site_b, year_of_birth=2013)
    clean_patient(site_b, year_of_birth=2012, sex="female")
    last_run_now()
    saved(first)

    counts = do_run_quality_checks(None)

    assert counts["mode"] == "incremental" and counts["patients_checked"] == 1
    assert near_duplicates() == {first.pk: [twin.pk], twin.pk: [first.pk]}


def test_a_candidate_with_a_further_lesion_is_no_near_duplicate_in_an_incremental_run(
    forms,
    site_a,
    site_b,
):
    first = clean_patient(site_a, year_of_birth=2012)
    twin = clean_patient(site_b, year_of_birth=2012)
    stored(twin, "dysraphic_lesion", {**LESION, "lesion_level": "c6"}, instance=2)
    # A changed patient with the further lesion's type and year, so that the candidates are
    # looked for among several lesion types and levels at once.
    clean_patient(site_a, year_of_birth=2012, sex="female")
    last_run_now()
    saved(first)

    do_run_quality_checks(None)
    incremental = near_duplicates()
    do_run_quality_checks(None, full=True)

    assert incremental == near_duplicates() == {}


def test_an_incremental_run_finds_the_same_near_duplicates_as_a_full_run(forms, site_a, site_b):
    pairs = []
    for year, level in ((2010, "c3"), (2011, "c4"), (2012, "c5")):
        one = clean_patient(site_a, year_of_birth=year)
        other = clean_patient(site_b, year_of_birth=year)
        for who in (one, other):
            saved(who, "dysraphic_lesion", lesion_level=level)
        pairs.append((one, other))
    lone = clean_patient(site_b, year_of_birth=2011)
    saved(lone, "surgery", surg_age_days=SURGERY["surg_age_days"] + 30)
    do_run_quality_checks(None, full=True)
    full = near_duplicates()
    last_run_now()
    for one, _ in pairs:
        saved(one)
    saved(lone)

    counts = do_run_quality_checks(None)

    assert counts["mode"] == "incremental"
    assert (
        near_duplicates()
        == full
        == {pk: [other] for one, two in pairs for pk, other in ((one.pk, two.pk), (two.pk, one.pk))}
    )


def test_a_near_duplicate_that_no_longer_matches_is_resolved_on_both_sides(forms, site_a, site_b):
    first = clean_patient(site_a, year_of_birth=2012)
    twin = clean_patient(site_b, year_of_birth=2012)
    # Like `first`, but with a further lesion: not the same person, in any run.
    further = clean_patient(site_b, year_of_birth=2012)
    stored(further, "dysraphic_lesion", {**LESION, "lesion_level": "c7"}, instance=2)
    do_run_quality_checks(None, full=True)
    assert near_duplicates() == {first.pk: [twin.pk], twin.pk: [first.pk]}
    last_run_now()
    # Another level: the unchanged patient is no longer a candidate of the changed one, only
    # its open finding names it.
    saved(twin, "dysraphic_lesion", lesion_level="c6")

    do_run_quality_checks(None)

    assert near_duplicates() == {}
    assert QualityIssue.objects.get(patient=first).status == IssueStatus.RESOLVED
    do_run_quality_checks(None, full=True)
    assert near_duplicates() == {}


def test_a_further_match_updates_the_open_finding_in_place(forms, site_a, site_b):
    first = clean_patient(site_a, year_of_birth=2012)
    twin = clean_patient(site_b, year_of_birth=2012)
    do_run_quality_checks(None, full=True)
    issue = QualityIssue.objects.get(patient=first)
    third = clean_patient(site_b, year_of_birth=2012)

    do_run_quality_checks(None, full=True)

    issue.refresh_from_db()
    assert QualityIssue.objects.filter(patient=first).count() == 1
    assert issue.status == IssueStatus.OPEN and "as 2 patients" in issue.message
    assert [match["patient_id"] for match in issue.details["matches"]] == [twin.pk, third.pk]


def near_duplicate_messages() -> dict[int, str]:
    return {
        issue.patient_id: issue.message
        for issue in QualityIssue.objects.filter(
            rule="near_duplicate_patient", status=IssueStatus.OPEN
        )
    }


def test_a_changed_patient_that_now_matches_a_pair_joins_both_findings(forms, site_a, site_b):
    first = clean_patient(site_a, year_of_birth=2012)
    twin = clean_patient(site_b, year_of_birth=2012)
    later = clean_patient(site_b, year_of_birth=2012)
    saved(later, "surgery", surg_age_days=SURGERY["surg_age_days"] + 30)
    do_run_quality_checks(None, full=True)
    assert near_duplicates() == {first.pk: [twin.pk], twin.pk: [first.pk]}
    last_run_now()
    saved(later, "surgery", surg_age_days=SURGERY["surg_age_days"] + 1)

    do_run_quality_checks(None)
    incremental = near_duplicates(), near_duplicate_messages()
    do_run_quality_checks(None, full=True)

    assert incremental == (near_duplicates(), near_duplicate_messages())
    assert incremental[0] == {
        first.pk: [twin.pk, later.pk],
        twin.pk: [first.pk],
        later.pk: [first.pk],
    }


def test_an_unchanged_patient_keeps_its_finding_when_a_changed_patient_is_no_match(
    forms,
    site_a,
    site_b,
):
    first = clean_patient(site_a, year_of_birth=2012)
    twin = clean_patient(site_b, year_of_birth=2012)
    # A candidate of `first` (same lesion), but its operation is a month later.
    other = clean_patient(site_b, year_of_birth=2012)
    saved(other, "surgery", surg_age_days=SURGERY["surg_age_days"] + 30)
    do_run_quality_checks(None, full=True)
    issue = QualityIssue.objects.get(patient=twin)
    last_run_now()
    saved(other)

    do_run_quality_checks(None)

    assert near_duplicates() == {first.pk: [twin.pk], twin.pk: [first.pk]}
    assert QualityIssue.objects.get(patient=twin).pk == issue.pk
    do_run_quality_checks(None, full=True)
    assert near_duplicates() == {first.pk: [twin.pk], twin.pk: [first.pk]}


def test_a_finding_that_lists_only_some_matches_is_recounted_when_an_unlisted_one_changes(
    forms,
    site_a,
    site_b,
):
    first = clean_patient(site_a, year_of_birth=2012)
    twins = [clean_patient(site_b, year_of_birth=2012) for _ in range(11)]
    do_run_quality_checks(None, full=True)
    assert "as 11 patients" in near_duplicate_messages()[first.pk]
    assert twins[-1].pk not in near_duplicates()[first.pk]
    last_run_now()
    saved(twins[-1], "surgery", surg_age_days=SURGERY["surg_age_days"] + 30)

    do_run_quality_checks(None)
    incremental = near_duplicate_messages()
    do_run_quality_checks(None, full=True)

    assert "as 10 patients" in incremental[first.pk]
    assert incremental == near_duplicate_messages()
