"""The synthetic data generator: deterministic, valid against the forms, written in bulk, with
a known share of deliberate mistakes that the quality checks find."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import call_command

from registry.audit.models import AuditEvent
from registry.crfs.selectors import schema_of
from registry.demo.planted_mistakes import PLANTED_RULES
from registry.demo.services import DEMO_SYNTHETIC_PATIENTS, do_load_demo
from registry.demo.synthetic import do_generate_synthetic
from registry.demo.synthetic_patients import iter_patients
from registry.formengine.validation import validate_submission
from registry.patients.models import Patient
from registry.quality.models import IssueStatus, QualityIssue
from registry.quality.services import do_run_quality_checks
from registry.submissions.models import Submission
from tests.factories import SiteFactory


def snapshot_of(patients):
    return [
        (
            p.local_id,
            p.site_code,
            p.sex,
            p.year_of_birth,
            [(s.form, s.version, s.instance, s.status, s.data) for s in p.submissions],
            p.planted,
        )
        for p in patients
    ]


def test_the_same_seed_gives_the_same_patients():
    first = snapshot_of(iter_patients(200, ["A", "B"], seed=7, reference_year=2025))
    again = snapshot_of(iter_patients(200, ["A", "B"], seed=7, reference_year=2025))
    other = snapshot_of(iter_patients(200, ["A", "B"], seed=8, reference_year=2025))
    assert first == again
    assert first != other


def test_a_larger_run_starts_with_the_same_patients():
    small = snapshot_of(iter_patients(50, ["A", "B"], seed=3, reference_year=2025))
    large = snapshot_of(iter_patients(120, ["A", "B"], seed=3, reference_year=2025))
    assert large[:50] == small


def test_the_data_covers_the_rare_combinations_and_both_form_versions():
    patients = list(iter_patients(400, ["A", "B"], seed=1, reference_year=2025))
    lesions = [s.data for p in patients for s in p.submissions if s.form == "dysraphic_lesion"]
    assert any(
        d["lesion_type"] == "cmmc"
        and d.get("nfv_stalk") == "1"
        and d["lesion_level"] in {"c1", "c2", "c3", "c4", "c5", "c6", "c7"}
        for d in lesions
    )
    assert any(
        d["lesion_type"] == "occ_dermal_sinus" and d.get("tumour_type") == "dermoid"
        for d in lesions
    )
    versions = Counter(
        s.version for p in patients for s in p.submissions if s.form == "mirror_movements"
    )
    assert versions[1] > 0 and versions[2] > 0
    # Version 1 is for older assessments: no patient has a v1 assessment after a v2 one.
    for p in patients:
        numbers = [s.version for s in p.submissions if s.form == "mirror_movements"]
        assert numbers == sorted(numbers)
    forms = {s.form for p in patients for s in p.submissions}
    assert forms == {"enrollment", "dysraphic_lesion", "surgery", "mirror_movements", "follow_up"}


def test_the_declared_share_of_mistakes_is_planted_and_reported():
    patients = list(iter_patients(1000, ["A", "B"], seed=2, error_share=0.1, reference_year=2025))
    with_errors = [p for p in patients if p.planted]
    assert 0.07 < len(with_errors) / len(patients) < 0.13
    assert all(len(p.planted) == 1 for p in with_errors)
    assert {e.rule for p in with_errors for e in p.planted} == set(PLANTED_RULES)


@pytest.mark.django_db
def test_every_generated_submission_is_valid_against_its_form(forms):
    sites = [SiteFactory(code="ALPHA"), SiteFactory(code="BETA")]
    report = do_generate_synthetic(None, sites, patients=200, seed=4)
    assert report.patients == Patient.objects.count() == 200
    assert report.submissions == Submission.objects.count()
    for submission in Submission.objects.select_related("form_version"):
        result = validate_submission(schema_of(submission.form_version), submission.data)
        assert result.errors == {}, (submission.pk, result.errors)
        assert result.data == submission.data


@pytest.mark.django_db
def test_generation_is_audited_as_any_write_and_running_it_again_adds_nothing(forms):
    sites = [SiteFactory(code="ALPHA"), SiteFactory(code="BETA")]
    first = do_generate_synthetic(None, sites, patients=40, seed=9)
    written = AuditEvent.objects.count()
    again = do_generate_synthetic(None, sites, patients=40, seed=9)
    assert first.patients == 40 and again.patients == 0 and again.skipped_existing == 40
    events = AuditEvent.objects.filter(action="synthetic.generate")
    assert events.count() == 1 and events.get().context["patients"] == 40
    # Written through the enrolment and save services: each patient and form audited.
    assert AuditEvent.objects.filter(action="patient.create").count() == 40
    assert (
        AuditEvent.objects.filter(action="submission.create").count()
        == Submission.objects.count()
        == first.submissions
    )
    assert AuditEvent.objects.count() == written


@pytest.mark.django_db
def test_pseudonyms_are_made_as_for_any_patient(forms):
    from registry.patients.services import pseudonym_for

    site = SiteFactory(code="ALPHA")
    do_generate_synthetic(None, [site], patients=3, seed=5)
    expected = {pseudonym_for(site, f"SYN-5-{i:07d}") for i in range(3)}
    assert set(Patient.objects.values_list("pseudonym", flat=True)) == expected


@pytest.mark.django_db
def test_the_quality_run_finds_every_planted_mistake(forms):
    sites = [SiteFactory(code="ALPHA"), SiteFactory(code="BETA"), SiteFactory(code="GAMMA")]
    patients = list(iter_patients(400, [s.code for s in sites], seed=6, error_share=0.25))
    report = do_generate_synthetic(None, sites, patients=400, seed=6, error_share=0.25)
    assert sum(report.planted.values()) == sum(len(p.planted) for p in patients) > 50
    do_run_quality_checks(None, full=True)

    by_site = {s.code: s for s in sites}
    from registry.patients.services import pseudonym_for

    missed = []
    for p in patients:
        for planted in p.planted:
            issues = QualityIssue.objects.filter(
                rule=planted.rule,
                status=IssueStatus.OPEN,
                patient__pseudonym=pseudonym_for(by_site[p.site_code], p.local_id),
            )
            if planted.form:
                issues = issues.filter(
                    submission__form__name=planted.form, submission__instance=planted.instance
                )
            if planted.field:
                issues = issues.filter(field=planted.field)
            if not issues.exists():
                missed.append((p.local_id, planted))
    assert missed == []


def test_the_command_reports_what_it_made(db, forms):
    out = io.StringIO()
    call_command(
        "generate_synthetic", "--patients", "30", "--sites", "3", "--seed", "1", stdout=out
    )
    text = out.getvalue()
    assert "Added 30 patients" in text and "across 3 sites" in text
    assert "Deliberate mistakes" in text
    assert Patient.objects.filter(site__code="SYN03").exists()
    out = io.StringIO()
    call_command(
        "generate_synthetic", "--patients", "30", "--sites", "3", "--seed", "1", stdout=out
    )
    assert "Added 0 patients" in out.getvalue() and "30 were there already" in out.getvalue()


@pytest.mark.django_db
def test_the_demo_adds_its_synthetic_patients_once(forms):
    do_load_demo()
    count = Patient.objects.count()
    assert count == 2 + DEMO_SYNTHETIC_PATIENTS
    assert set(Patient.objects.values_list("site__code", flat=True)) == {"TUMS", "NORTH"}
    do_load_demo()
    assert Patient.objects.count() == count


def test_the_command_shows_its_progress_every_tenth_of_the_way(db, forms):
    out = io.StringIO()
    call_command("generate_synthetic", "--patients", "25", "--sites", "1", stdout=out)
    progress = [line.strip() for line in out.getvalue().splitlines() if "generated" in line]
    assert progress == ["25 of 25 patients generated"]


def test_progress_is_reported_after_every_batch(db, forms):
    site = SiteFactory(code="PROG")
    calls: list[tuple[int, int]] = []
    do_generate_synthetic(
        None,
        [site],
        patients=25,
        seed=3,
        batch_size=10,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(10, 25), (20, 25), (25, 25)]
