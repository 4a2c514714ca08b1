"""The deliberate mistakes: each passes the form's own validation, and a data-quality rule must
find it. A planted mistake is named by that rule, with the form, the instance and the field it
is in (`PlantedError`), so that tests and demos can check the quality run found them all."""

from __future__ import annotations

import copy
import random
from collections.abc import Sequence

from registry.submissions.models import Status

from .clinical_values import DAYS_PER_MONTH, DERMAL_SINUS
from .synthetic_records import PlantedError, SyntheticPatient, SyntheticSubmission, submissions_of

# The deliberate mistakes, each named by the quality rule that must find it.
PLANTED_RULES = (
    "physiological_mm_after_10",
    "mmc_level_outside_cervical",
    "dermoid_without_sinus",
    "surgery_after_follow_up",
    "near_duplicate_patient",
    "outlier_limits",
    "duplicate_enrolment",
    "surgery_without_lesion",
    "follow_up_without_surgery",
)


def plant(rng: random.Random, patient: SyntheticPatient, rule: str) -> bool:
    """Put one mistake of kind `rule` into `patient`, if the patient's story allows it."""
    planted = _PLANTERS[rule](rng, patient)
    if planted is not None:
        patient.planted.append(planted)
    return planted is not None


def _plant_physiological(rng: random.Random, patient: SyntheticPatient) -> PlantedError | None:
    assessments = submissions_of(patient, "mirror_movements")
    if not assessments or patient.age_months < 121:
        return None
    last = assessments[-1]
    age = max(last.data["mm_age_months"], rng.randint(120, min(patient.age_months, 216)))
    grade_field = "wt_grade" if last.version == 1 else "wt_grade_left_task"
    last.data = {
        "mm_age_months": age,
        "mm_present": "1",
        "onset_early_childhood": ["1"],
        "elicited_by": "both",
        "body_regions": ["distal"],
        grade_field: "1",
        "mm_classification": "physiological",
        "mm_impact": "none",
    }
    return PlantedError(
        "physiological_mm_after_10", "mirror_movements", last.instance, "mm_classification"
    )


def _plant_mmc_level(rng: random.Random, patient: SyntheticPatient) -> PlantedError | None:
    for lesion in submissions_of(patient, "dysraphic_lesion"):
        if lesion.data["lesion_type"] == "cmmc":
            lesion.data["lesion_level"] = rng.choice(("thoracic", "lumbar", "cmj"))
            return PlantedError(
                "mmc_level_outside_cervical", "dysraphic_lesion", lesion.instance, "lesion_level"
            )
    return None


def _plant_dermoid(rng: random.Random, patient: SyntheticPatient) -> PlantedError | None:
    lesions = submissions_of(patient, "dysraphic_lesion")
    if not lesions or any(s.data["lesion_type"] in DERMAL_SINUS for s in lesions):
        return None
    lesion = lesions[0]
    lesion.data.update(
        {"tumour_present": "1", "tumour_type": "dermoid", "tumour_location": "spinal"}
    )
    return PlantedError("dermoid_without_sinus", "dysraphic_lesion", lesion.instance, "tumour_type")


def _plant_surgery_after_follow_up(
    rng: random.Random, patient: SyntheticPatient
) -> PlantedError | None:
    visits = submissions_of(patient, "follow_up")
    if not visits:
        return None
    visit = visits[0]
    surgery_days = visit.data["age_at_last_surgery_days"]
    surgery_months = int(surgery_days / DAYS_PER_MONTH)
    if surgery_months < 2:
        return None
    age = rng.randint(0, surgery_months - 1)
    visit.data["fu_age_months"] = age
    visit.data.pop("months_since_surgery", None)
    enrolment = submissions_of(patient, "enrollment")[0]
    # Keep the visit after enrolment so that exactly one rule fires on it.
    if enrolment.data["enrol_age_months"] > age:
        enrolment.data["enrol_age_months"] = age
    return PlantedError("surgery_after_follow_up", "follow_up", visit.instance, "fu_age_months")


def _plant_outlier(rng: random.Random, patient: SyntheticPatient) -> PlantedError | None:
    lesions = submissions_of(patient, "dysraphic_lesion")
    if not lesions:
        return None
    lesions[0].data["kf_fused_levels"] = rng.randint(12, 20)
    return PlantedError(
        "outlier_limits", "dysraphic_lesion", lesions[0].instance, "kf_fused_levels"
    )


def _plant_duplicate_enrolment(
    rng: random.Random, patient: SyntheticPatient
) -> PlantedError | None:
    first = submissions_of(patient, "enrollment")[0]
    patient.submissions.insert(
        1, SyntheticSubmission("enrollment", 1, 2, Status.UNVERIFIED, copy.deepcopy(first.data))
    )
    return PlantedError("duplicate_enrolment", "enrollment", 2)


def _plant_surgery_without_lesion(
    rng: random.Random, patient: SyntheticPatient
) -> PlantedError | None:
    surgeries = submissions_of(patient, "surgery")
    if not surgeries:
        return None
    lesions = submissions_of(patient, "dysraphic_lesion")
    surgeries[-1].data["lesion_instance"] = len(lesions) + 1
    return PlantedError(
        "surgery_without_lesion", "surgery", surgeries[-1].instance, "lesion_instance"
    )


def _plant_follow_up_without_surgery(
    rng: random.Random, patient: SyntheticPatient
) -> PlantedError | None:
    if submissions_of(patient, "surgery") or submissions_of(patient, "follow_up"):
        return None
    enrolment = submissions_of(patient, "enrollment")[0].data
    patient.submissions.append(
        SyntheticSubmission(
            "follow_up",
            1,
            1,
            Status.COMPLETE,
            {"fu_age_months": enrolment["enrol_age_months"], "fu_status": "lost"},
        )
    )
    return PlantedError("follow_up_without_surgery", "follow_up", 1)


def near_duplicate(
    rng: random.Random, original: SyntheticPatient | None, local_id: str, site_codes: Sequence[str]
) -> SyntheticPatient | None:
    """The same patient entered again at another site, with surgery a few days apart."""
    if original is None or len(site_codes) < 2:
        return None
    surgeries = submissions_of(original, "surgery")
    lesions = submissions_of(original, "dysraphic_lesion")
    if not surgeries or not lesions or lesions[0].data["lesion_level"] == "UNK":
        return None
    others = [code for code in site_codes if code != original.site_code]
    twin = SyntheticPatient(
        local_id,
        others[rng.randrange(len(others))],
        original.sex,
        original.year_of_birth,
        original.age_months,
    )
    shift = rng.choice((-2, -1, 1, 2))
    for submission in original.submissions:
        data = copy.deepcopy(submission.data)
        if submission.form == "surgery":
            data["surg_age_days"] = max(0, data["surg_age_days"] + shift)
        if submission.form == "follow_up" and "age_at_last_surgery_days" in data:
            data["age_at_last_surgery_days"] = max(0, data["age_at_last_surgery_days"] + shift)
            data.pop("months_since_surgery", None)
        twin.submissions.append(
            SyntheticSubmission(
                submission.form, submission.version, submission.instance, submission.status, data
            )
        )
    twin.planted.append(PlantedError("near_duplicate_patient", "", 0))
    return twin


_PLANTERS = {
    "physiological_mm_after_10": _plant_physiological,
    "mmc_level_outside_cervical": _plant_mmc_level,
    "dermoid_without_sinus": _plant_dermoid,
    "surgery_after_follow_up": _plant_surgery_after_follow_up,
    "outlier_limits": _plant_outlier,
    "duplicate_enrolment": _plant_duplicate_enrolment,
    "surgery_without_lesion": _plant_surgery_without_lesion,
    "follow_up_without_surgery": _plant_follow_up_without_surgery,
}
