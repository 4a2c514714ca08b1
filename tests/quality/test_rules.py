"""Each data-quality rule: a case that fires and a case that does not."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from registry.quality.models import IssueStatus, QualityIssue
from registry.quality.rules import BUILT_IN_RULES
from registry.quality.services import do_run_quality_checks
from tests.quality.builders import (
    ASSESSMENT,
    ENROLMENT,
    FOLLOW_UP,
    LESION,
    SURGERY,
    clean_patient,
    patient,
    stored,
)

pytestmark = pytest.mark.django_db


def issues_of(rule: str) -> list[QualityIssue]:
    return list(QualityIssue.objects.filter(rule=rule, status=IssueStatus.OPEN))


def with_changes(
    form: str, changes: dict, *, remove: tuple[str, ...] = (), version: int = 1, instance: int = 1
) -> Callable:
    """Arrange: a clean patient whose form `form` is replaced by a changed copy."""
    base = {
        "enrollment": ENROLMENT,
        "dysraphic_lesion": LESION,
        "surgery": SURGERY,
        "follow_up": FOLLOW_UP,
        "mirror_movements": ASSESSMENT,
    }[form]

    def arrange(site):
        who = clean_patient(site)
        submission = who.submissions.get(form__name=form, instance=instance)
        data = {key: value for key, value in {**base, **changes}.items() if key not in remove}
        type(submission).objects.filter(pk=submission.pk).update(data=data)
        return who

    return arrange


FIRES = {
    "required_blank": with_changes("enrollment", {}, remove=("handedness",)),
    "invalid_value": with_changes("enrollment", {"enrol_age_months": "three years"}),
    "identifier_in_free_text": with_changes(
        "enrollment", {"other_diagnoses": "Scoliosis; seen by Sara Ahmadi, Tel: 0912 345 6789"}
    ),
    "choice_unknown": with_changes("dysraphic_lesion", {"lesion_level": "T13"}),
    "hidden_value": with_changes("mirror_movements", {"mm_present": "0"}, version=2),
    "calc_mismatch": with_changes("follow_up", {"months_since_surgery": 12}),
    "outlier_limits": with_changes("dysraphic_lesion", {"kf_fused_levels": 25}),
    "surgery_after_follow_up": with_changes(
        "follow_up",
        {"fu_age_months": 2, "age_at_last_surgery_days": 400, "months_since_surgery": -11.1},
    ),
    "follow_up_before_enrolment": with_changes(
        "follow_up", {"fu_age_months": 20, "months_since_surgery": 19.7}
    ),
    "dermoid_without_sinus": with_changes(
        "dysraphic_lesion", {"tumour_present": "1", "tumour_type": "dermoid"}
    ),
    "surgery_without_lesion": with_changes("surgery", {"lesion_instance": 2}),
    "physiological_mm_after_10": with_changes(
        "mirror_movements",
        {"mm_age_months": 150, "mm_classification": "physiological"},
        remove=("associated_conditions",),
        version=2,
    ),
    "mmc_level_outside_cervical": with_changes("dysraphic_lesion", {"lesion_level": "lumbar"}),
    "onset_after_assessment": with_changes("mirror_movements", {"onset_age_months": 60}, version=2),
}


@pytest.mark.parametrize("rule", sorted(FIRES))
def test_a_rule_fires_on_a_case_it_is_about(forms, site_a, rule):
    who = FIRES[rule](site_a)
    do_run_quality_checks(None, full=True)
    found = issues_of(rule)
    assert found and {issue.patient for issue in found} == {who}
    assert all(issue.message and issue.site == site_a for issue in found)


@pytest.mark.parametrize("rule", sorted(FIRES))
def test_a_rule_stays_quiet_on_a_correct_patient(forms, site_a, rule):
    clean_patient(site_a)
    do_run_quality_checks(None, full=True)
    assert issues_of(rule) == []


def test_a_correct_patient_raises_no_issue_at_all(forms, site_a):
    clean_patient(site_a)
    counts = do_run_quality_checks(None, full=True)
    assert counts["findings"] == 0
    assert not QualityIssue.objects.exists()


def test_the_finding_names_the_field_and_what_is_wrong(forms, site_a):
    FIRES["hidden_value"](site_a)
    do_run_quality_checks(None, full=True)
    issue = QualityIssue.objects.get(rule="hidden_value", field="wt_grade_left_task")
    assert issue.submission.form.name == "mirror_movements"
    assert "not asked given the other answers" in issue.message
    assert issue.severity == BUILT_IN_RULES["hidden_value"].severity


def test_a_missing_code_is_an_answer_not_a_blank(forms, site_a):
    with_changes("enrollment", {"handedness": "UNK"})(site_a)
    do_run_quality_checks(None, full=True)
    assert issues_of("required_blank") == [] and issues_of("choice_unknown") == []


def test_the_calculation_is_compared_with_what_was_stored(forms, site_a):
    with_changes("follow_up", {}, remove=("months_since_surgery",))(site_a)
    do_run_quality_checks(None, full=True)
    (issue,) = issues_of("calc_mismatch")
    assert "stored as blank" in issue.message and "39.7" in issue.message


def test_a_follow_up_with_no_surgery_at_all_is_a_warning(forms, site_a):
    who = patient(site_a)
    stored(who, "enrollment", dict(ENROLMENT))
    stored(who, "follow_up", {"fu_age_months": 40, "fu_status": "lost"})
    clean = clean_patient(site_a)
    do_run_quality_checks(None, full=True)
    found = issues_of("follow_up_without_surgery")
    assert [issue.patient for issue in found] == [who] and clean != who
    assert found[0].severity == "warning"


def test_a_pathology_dermoid_without_a_dermal_sinus_is_found_on_the_surgery(forms, site_a):
    with_changes("surgery", {"pathology_confirms": "1", "pathology_type": "dermoid"})(site_a)
    do_run_quality_checks(None, full=True)
    (issue,) = issues_of("dermoid_without_sinus")
    assert issue.submission.form.name == "surgery" and issue.field == "pathology_type"


def test_a_dermoid_with_its_dermal_sinus_is_no_finding(forms, site_a):
    who = patient(site_a)
    stored(who, "enrollment", {**ENROLMENT, "primary_diagnosis": "occ_dermal_sinus"})
    stored(
        who,
        "dysraphic_lesion",
        {
            "lesion_type": "occ_dermal_sinus",
            "lesion_level": "occipital",
            "tumour_present": "1",
            "tumour_type": "dermoid",
        },
    )
    do_run_quality_checks(None, full=True)
    assert issues_of("dermoid_without_sinus") == []


def test_the_same_pseudonym_enrolled_twice_is_found(forms, site_a):
    who = clean_patient(site_a)
    stored(who, "enrollment", dict(ENROLMENT), instance=2)
    do_run_quality_checks(None, full=True)
    (issue,) = issues_of("duplicate_enrolment")
    assert issue.patient == who and issue.submission.instance == 2


def test_a_patient_enrolled_at_two_sites_is_flagged_for_review(forms, site_a, site_b):
    first = clean_patient(site_a, year_of_birth=2012)
    twin = clean_patient(site_b, year_of_birth=2012)
    twin.submissions.filter(form__name="surgery").update(data={**SURGERY, "surg_age_days": 12})
    do_run_quality_checks(None, full=True)
    found = {issue.patient: issue for issue in issues_of("near_duplicate_patient")}
    assert set(found) == {first, twin}
    assert found[twin].details["matches"][0]["pseudonym"] == first.pseudonym
    assert first.pseudonym not in found[twin].message  # coordinators at B see only the hint


@pytest.mark.parametrize(
    "difference",
    [
        {"site": "same"},
        {"year_of_birth": 2013},
        {"surg_age_days": 40},
        {"lesion_level": "c5"},
    ],
)
def test_patients_that_differ_are_not_near_duplicates(forms, site_a, site_b, difference):
    clean_patient(site_a, year_of_birth=2012)
    twin = clean_patient(
        site_a if difference.get("site") else site_b,
        year_of_birth=difference.get("year_of_birth", 2012),
    )
    if "surg_age_days" in difference:
        twin.submissions.filter(form__name="surgery").update(
            data={**SURGERY, "surg_age_days": difference["surg_age_days"]}
        )
    if "lesion_level" in difference:
        twin.submissions.filter(form__name="dysraphic_lesion").update(
            data={**LESION, "lesion_level": difference["lesion_level"]}
        )
    do_run_quality_checks(None, full=True)
    assert issues_of("near_duplicate_patient") == []


def test_a_value_far_from_the_registry_mean_is_flagged(forms, site_a):
    for index in range(25):
        who = patient(site_a)
        stored(who, "enrollment", {**ENROLMENT, "enrol_age_months": 30 + index % 5})
    outlier = patient(site_a)
    stored(outlier, "enrollment", {**ENROLMENT, "enrol_age_months": 900})
    do_run_quality_checks(None, full=True)
    found = issues_of("outlier_sd")
    assert [issue.patient for issue in found] == [outlier]
    assert found[0].field == "enrol_age_months" and "900" in found[0].message


def test_the_3_sd_rule_waits_for_enough_values(forms, site_a):
    for age in (30, 31, 32, 900):
        stored(patient(site_a), "enrollment", {**ENROLMENT, "enrol_age_months": age})
    do_run_quality_checks(None, full=True)
    assert issues_of("outlier_sd") == []
