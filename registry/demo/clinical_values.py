"""The answers of each form for one synthetic patient, drawn at random from the clinical picture
of CRF-SPEC.md.

A patient's story (diagnosis, age, lesions, surgeries, mirror movements) is drawn first; the
enrolment, lesion, surgery, Mirror movements and follow-up forms are then filled from it, so
that they agree with one another: cervical myelomeningoceles repaired in the first weeks of
life (some with a neurofibrovascular stalk, the combination that goes with mirror movements),
occipital dermal sinuses with intracranial tracts and posterior fossa dermoids excised in
childhood, spinal lesions, and patients with hereditary or syndromic mirror movements and no
lesion. Older assessments are on version 1 of the Mirror movements form, later ones on version
2. Everything here is invented: no real patient is behind any of it.

Every draw comes from the `random.Random` passed in, in a fixed order: the same seed gives the
same answers.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from registry.submissions.models import Status

from .synthetic_records import SyntheticPatient, SyntheticSubmission

DAYS_PER_MONTH = 30.44

_DIAGNOSES = (
    ("cmmc", 22),
    ("cmc", 8),
    ("occ_dermal_sinus", 12),
    ("cranial_dermal_sinus", 4),
    ("spinal_dermal_sinus", 10),
    ("sb_occulta", 12),
    ("lipomyelomeningocele", 10),
    ("familial_mm", 8),
    ("kallmann", 4),
    ("klippel_feil", 6),
    ("acc", 4),
)
_LESIONS = {
    "cmmc",
    "cmc",
    "occ_dermal_sinus",
    "cranial_dermal_sinus",
    "spinal_dermal_sinus",
    "sb_occulta",
    "lipomyelomeningocele",
}
DERMAL_SINUS = {"occ_dermal_sinus", "cranial_dermal_sinus", "spinal_dermal_sinus"}
_CERVICAL = ("c1", "c2", "c3", "c4", "c5", "c6", "c7")
_CERVICAL_WEIGHTS = (1, 2, 3, 3, 3, 2, 1)
_MM_CHANCE = {
    "cmmc": 0.35,
    "cmc": 0.25,
    "occ_dermal_sinus": 0.5,
    "cranial_dermal_sinus": 0.3,
    "spinal_dermal_sinus": 0.15,
    "sb_occulta": 0.1,
    "lipomyelomeningocele": 0.1,
    "familial_mm": 1.0,
    "kallmann": 0.8,
    "klippel_feil": 0.6,
    "acc": 0.7,
}
_ASSOCIATED = {"kallmann": "kallmann", "klippel_feil": "klippel_feil", "acc": "acc"}
_MRI_FINDINGS = {
    "cmmc": "Cervical myelomeningocele; dorsal stalk from the cord to the sac.",
    "cmc": "Cervical meningocele without neural tissue in the sac.",
    "occ_dermal_sinus": "Occipital dermal sinus with a tract towards the posterior fossa.",
    "cranial_dermal_sinus": "Cranial dermal sinus; no intracranial extension seen.",
    "spinal_dermal_sinus": "Spinal dermal sinus; conus at L1-L2.",
    "sb_occulta": "Spina bifida occulta; normal conus.",
    "lipomyelomeningocele": "Lipomyelomeningocele with a low-lying conus.",
}


def _pick(rng: random.Random, weighted: Sequence[tuple[Any, float]]) -> Any:
    values = [value for value, _ in weighted]
    weights = [weight for _, weight in weighted]
    return rng.choices(values, weights)[0]


def _yes(rng: random.Random, chance: float) -> str:
    return "1" if rng.random() < chance else "0"


@dataclass
class _Story:
    """The facts of one patient that several forms share."""

    diagnosis: str
    age_now: int  # months
    sex: str
    year_of_birth: int
    lesions: list[dict[str, Any]] = field(default_factory=list)
    surgeries: list[dict[str, Any]] = field(default_factory=list)
    enrol_age: int = 0
    mm_present: bool = False
    mm_onset: int | None = None


def new_patient(rng: random.Random, local_id: str, site_code: str, year: int) -> SyntheticPatient:
    age_now = rng.randint(6, 30 * 12)
    sex = _pick(rng, (("male", 54), ("female", 44), ("undetermined", 1), ("unknown", 1)))
    story = _Story(
        diagnosis=_pick(rng, _DIAGNOSES),
        age_now=age_now,
        sex=sex,
        year_of_birth=year - age_now // 12,
    )
    if story.diagnosis in _LESIONS:
        story.lesions.append(_lesion(rng, story, story.diagnosis))
        if story.diagnosis == "cmmc" and rng.random() < 0.05:
            story.lesions.append(_lesion(rng, story, "sb_occulta"))
    for number, lesion in enumerate(story.lesions, start=1):
        story.surgeries += _surgeries(rng, story, lesion, number)
    story.surgeries.sort(key=lambda surgery: surgery["surg_age_days"])
    first_event = min([lesion["lesion_dx_age_months"] for lesion in story.lesions] + [age_now])
    story.enrol_age = rng.randint(min(first_event, age_now), age_now)

    patient = SyntheticPatient(local_id, site_code, sex, story.year_of_birth, age_now)
    add = patient.submissions.append
    add(
        SyntheticSubmission(
            "enrollment", 1, 1, _status(rng, enrolment=True), _enrolment(rng, story)
        )
    )
    for number, lesion in enumerate(story.lesions, start=1):
        add(SyntheticSubmission("dysraphic_lesion", 1, number, _status(rng), lesion))
    for number, surgery in enumerate(story.surgeries, start=1):
        add(SyntheticSubmission("surgery", 1, number, _status(rng), surgery))
    for number, (version, assessment) in enumerate(_assessments(rng, story), start=1):
        add(SyntheticSubmission("mirror_movements", version, number, _status(rng), assessment))
    for number, visit in enumerate(_follow_ups(rng, story), start=1):
        add(SyntheticSubmission("follow_up", 1, number, _status(rng), visit))
    return patient


def _status(rng: random.Random, *, enrolment: bool = False) -> str:
    status: str
    if enrolment:
        status = _pick(rng, ((Status.COMPLETE, 90), (Status.UNVERIFIED, 10)))
    else:
        status = _pick(
            rng, ((Status.COMPLETE, 70), (Status.UNVERIFIED, 20), (Status.INCOMPLETE, 10))
        )
    return status


def _lesion(rng: random.Random, story: _Story, kind: str) -> dict[str, Any]:
    lesion: dict[str, Any] = {"lesion_type": kind}
    if kind == "cmmc":
        level = "UNK" if rng.random() < 0.1 else rng.choices(_CERVICAL, _CERVICAL_WEIGHTS)[0]
    elif kind == "cmc":
        level = "cmj" if rng.random() < 0.2 else rng.choices(_CERVICAL, _CERVICAL_WEIGHTS)[0]
    elif kind in ("occ_dermal_sinus", "cranial_dermal_sinus"):
        level = "occipital"
    elif kind == "spinal_dermal_sinus":
        level = _pick(rng, (("thoracic", 15), ("lumbar", 60), ("sacral", 25)))
    else:
        level = _pick(rng, (("lumbar", 60), ("sacral", 40)))
    lesion["lesion_level"] = level

    open_defect = kind in ("cmmc", "cmc", "lipomyelomeningocele")
    dx_age = 0 if open_defect else rng.randint(0, min(story.age_now, 96))
    lesion["lesion_dx_age_months"] = dx_age
    if open_defect:
        lesion["prenatal_dx"] = _yes(rng, 0.4)
    if kind in DERMAL_SINUS:
        lesion["cutaneous_markers"] = _pick(
            rng,
            (
                (["hairy_patch_dimple"], 40),
                (["sinus_opening"], 30),
                (["hairy_patch_dimple", "sinus_opening"], 30),
            ),
        )
    elif kind == "sb_occulta":
        lesion["cutaneous_markers"] = _pick(
            rng, ((["hairy_patch_dimple"], 40), (["haemangioma"], 20), (["none"], 40))
        )
    elif kind == "lipomyelomeningocele":
        lesion["cutaneous_markers"] = _pick(
            rng, ((["skin_tag"], 40), (["haemangioma"], 30), (["none"], 30))
        )
    if kind in ("cmmc", "cmc"):
        lesion["nfv_stalk"] = _yes(rng, 0.35 if kind == "cmmc" else 0.2)
    if kind in DERMAL_SINUS:
        lesion["sinus_intradural"] = _yes(rng, 0.7 if kind == "occ_dermal_sinus" else 0.4)
    tumour_chance = {"occ_dermal_sinus": 0.4, "spinal_dermal_sinus": 0.15}.get(kind, 0.0)
    lesion["tumour_present"] = _yes(rng, tumour_chance)
    if lesion["tumour_present"] == "1":
        lesion["tumour_type"] = _pick(rng, (("dermoid", 80), ("epidermoid", 20)))
        lesion["tumour_location"] = (
            _pick(rng, (("pf_midline", 85), ("pf_lateral", 15)))
            if kind == "occ_dermal_sinus"
            else "spinal"
        )
    tethered = {"lipomyelomeningocele": 0.8, "spinal_dermal_sinus": 0.4, "cmmc": 0.1}
    lesion["tethered_cord"] = _yes(rng, tethered.get(kind, 0.02))
    lesion["chiari"] = _yes(rng, 0.2 if kind == "cmmc" else 0.03)
    if lesion["chiari"] == "1":
        lesion["chiari_type"] = "type2" if kind == "cmmc" else "type1"
    lesion["hydrocephalus"] = _yes(rng, 0.15 if kind == "cmmc" else 0.03)
    if lesion["hydrocephalus"] == "1":
        lesion["hydrocephalus_shunted"] = _yes(rng, 0.7)
    lesion["syringomyelia"] = _yes(rng, 0.1)
    if kind in ("cmmc", "cmc") and rng.random() < 0.3:
        lesion["kf_fused_levels"] = rng.randint(0, 3)
    if lesion.get("tumour_present") == "1" and kind == "occ_dermal_sinus":
        symptoms = _pick(
            rng,
            (
                (["vertigo", "vomiting"], 50),
                (["meningitis"], 20),
                (["vomiting"], 15),
                (["none"], 15),
            ),
        )
    elif kind in DERMAL_SINUS:
        symptoms = _pick(rng, ((["meningitis"], 15), (["abscess"], 5), (["none"], 80)))
    else:
        symptoms = _pick(rng, ((["weakness"], 15), (["none"], 85)))
    lesion["presenting_symptoms"] = symptoms
    if symptoms != ["none"]:
        lesion["symptom_onset_months"] = rng.randint(0, dx_age)
    lesion["mri_done"] = _yes(rng, 0.9)
    if lesion["mri_done"] == "1":
        lesion["mri_findings"] = _MRI_FINDINGS[kind]
    return lesion


def _surgeries(
    rng: random.Random, story: _Story, lesion: dict[str, Any], number: int
) -> list[dict[str, Any]]:
    kind = lesion["lesion_type"]
    age_days_now = int(story.age_now * DAYS_PER_MONTH)
    dx_days = int(lesion["lesion_dx_age_months"] * DAYS_PER_MONTH)
    operations: list[dict[str, Any]] = []
    procedures: list[str] = []
    if kind == "cmmc":
        day, procedures = rng.randint(1, 30), ["mmc_repair"]
    elif kind == "cmc":
        day, procedures = rng.randint(1, 120), ["mc_repair"]
    elif kind in DERMAL_SINUS:
        day = dx_days + rng.randint(7, 120)
        if lesion.get("sinus_intradural") == "1" and kind != "spinal_dermal_sinus":
            procedures.append("suboccipital_craniectomy")
        procedures.append("sinus_tract_excision")
        if lesion.get("tumour_present") == "1":
            procedures.append("tumour_excision")
        if lesion.get("tethered_cord") == "1":
            procedures.append("untethering")
    elif kind == "lipomyelomeningocele" and rng.random() < 0.6:
        day, procedures = rng.randint(90, 2000), ["untethering"]
    elif kind == "sb_occulta" and lesion.get("tethered_cord") == "1":
        day, procedures = dx_days + rng.randint(30, 365), ["untethering"]
    else:
        return []
    day = min(day, age_days_now)
    operation: dict[str, Any] = {
        "surg_age_days": day,
        "procedures": procedures,
        "lesion_instance": number,
        "excision_completeness": (
            _pick(rng, (("complete", 85), ("subtotal", 15)))
            if "sinus_tract_excision" in procedures or "tumour_excision" in procedures
            else "na"
        ),
    }
    if lesion.get("tumour_present") == "1":
        operation["pathology_confirms"] = _pick(rng, (("1", 90), ("pending", 10)))
        if operation["pathology_confirms"] == "1":
            operation["pathology_type"] = lesion["tumour_type"]
    complication = _pick(
        rng, ((["none"], 80), (["csf_leak"], 8), (["infection"], 6), (["wound_dehiscence"], 6))
    )
    operation["complications"] = complication
    operation["postop_course"] = "uneventful" if complication == ["none"] else "complicated"
    operations.append(operation)
    if lesion.get("hydrocephalus_shunted") == "1":
        operations.append(
            {
                "surg_age_days": min(day + rng.randint(3, 60), age_days_now),
                "procedures": ["shunt"],
                "lesion_instance": number,
                "excision_completeness": "na",
                "complications": ["none"],
                "postop_course": "uneventful",
            }
        )
    return operations


def _enrolment(rng: random.Random, story: _Story) -> dict[str, Any]:
    handedness = (
        "unknown"
        if story.enrol_age < 24
        else _pick(rng, (("right", 85), ("left", 10), ("ambidextrous", 3), ("unknown", 2)))
    )
    data: dict[str, Any] = {
        "enrol_age_months": story.enrol_age,
        "handedness": handedness,
        "consent_registry": "1",
        "consent_recontact": _yes(rng, 0.8),
    }
    if handedness == "right" and rng.random() < 0.3:
        data["edinburgh_score"] = rng.randint(40, 100)
    elif handedness == "left" and rng.random() < 0.3:
        data["edinburgh_score"] = -rng.randint(40, 100)
    familial = story.diagnosis == "familial_mm"
    data["family_history_mm"] = "1" if familial else _pick(rng, (("0", 80), ("unknown", 20)))
    data["consanguinity"] = _pick(rng, (("0", 85), ("1", 5), ("unknown", 10)))
    if familial or story.diagnosis == "kallmann":
        data["genetic_testing"] = "1"
    else:
        data["genetic_testing"] = _pick(rng, (("0", 70), ("1", 20), ("pending", 10)))
    if data["genetic_testing"] == "1":
        if familial:
            gene = _pick(
                rng, (("dcc", 50), ("rad51", 20), ("dnal4", 5), ("ntn1", 5), ("none_found", 20))
            )
        elif story.diagnosis == "kallmann":
            gene = _pick(rng, (("other", 70), ("none_found", 30)))
        else:
            gene = "none_found"
        data["gene"] = gene
        if gene == "other":
            data["gene_other"] = "ANOS1"
        if gene != "none_found":
            base = rng.choice("ACGT")
            change = rng.choice([b for b in "ACGT" if b != base])
            data["hgvs_variant"] = f"c.{rng.randint(40, 4800)}{base}>{change}"
    data["primary_diagnosis"] = story.diagnosis
    return data


def _assessments(rng: random.Random, story: _Story) -> list[tuple[int, dict[str, Any]]]:
    count = _pick(rng, ((1, 60), (2, 30), (3, 10)))
    ages = [story.enrol_age]
    for _ in range(count - 1):
        following = ages[-1] + rng.randint(12, 36)
        if following > story.age_now:
            break
        ages.append(following)
    story.mm_present = rng.random() < _MM_CHANCE[story.diagnosis]
    if story.diagnosis == "cmmc" and story.lesions and story.lesions[0].get("nfv_stalk") == "1":
        story.mm_present = rng.random() < 0.75
    early = rng.random() < 0.4
    story.mm_onset = None if early else rng.randint(0, max(0, min(ages[0], 120)))
    classification = _classification(rng, story, ages[-1])
    grade = _pick(rng, ((1, 25), (2, 35), (3, 25), (4, 15)))
    traits = {
        "elicited_by": _pick(rng, (("both", 50), ("left_task", 25), ("right_task", 25))),
        "body_regions": _pick(
            rng,
            (
                (["distal"], 60),
                (["distal", "proximal"], 25),
                (["whole_upper_limb"], 10),
                (["distal", "lower_limbs"], 5),
            ),
        ),
        "impact": _pick(rng, (("none", 30), ("mild", 45), ("moderate", 20), ("severe", 5))),
        "palsy": _pick(rng, ((["none"], 85), (["cn6"], 10), (["cn7"], 5))),
        "side": _pick(rng, (("right", 50), ("left", 40), ("both", 10))),
    }
    # Older assessments were filled before the site moved to version 2 of the form; from the
    # switch on, every assessment is on version 2.
    switch = rng.randint(1, len(ages) + 1)
    result = []
    for number, age in enumerate(ages, start=1):
        version = 2 if number >= switch else 1
        data: dict[str, Any] = {"mm_age_months": age}
        present = story.mm_present and (number == 1 or rng.random() < 0.9)
        data["mm_present"] = "1" if present else "0"
        if present:
            if early:
                data["onset_early_childhood"] = ["1"]
            elif story.mm_onset is not None:
                data["onset_age_months"] = min(story.mm_onset, age)
            data["elicited_by"] = traits["elicited_by"]
            data["body_regions"] = traits["body_regions"]
            this_grade = max(0, min(4, grade + rng.choice((-1, 0, 0, 1))))
            if version == 1:
                data["wt_grade"] = str(this_grade)
            else:
                data["wt_grade_left_task"] = str(this_grade)
                data["wt_grade_right_task"] = str(max(0, min(4, this_grade + rng.choice((-1, 0)))))
            data["mm_classification"] = classification
            if data["mm_classification"] == "associated":
                data["associated_conditions"] = [_ASSOCIATED.get(story.diagnosis, "dysraphic")]
            data["mm_impact"] = traits["impact"]
            if version == 2:
                data["tms_done"] = _yes(rng, 0.2)
                if data["tms_done"] == "1":
                    data["tms_ipsilateral_mep"] = _yes(rng, 0.8)
            data["long_tract_signs"] = _yes(rng, 0.05)
            data["sensory_deficit"] = _yes(rng, 0.05)
            data["cranial_nerve_palsy"] = traits["palsy"]
            if traits["palsy"] == ["cn6"]:
                data["cn6_side"] = traits["side"]
            elif traits["palsy"] == ["cn7"]:
                data["cn7_side"] = traits["side"]
        result.append((version, data))
    return result


def _classification(rng: random.Random, story: _Story, last_age: int) -> str:
    if story.diagnosis == "familial_mm":
        return "hereditary"
    if rng.random() < 0.1:
        return "unknown"
    if last_age < 96 and rng.random() < 0.1:
        # Normal in young children; every assessment of this patient is before 8 years.
        return "physiological"
    return "associated"


def _follow_ups(rng: random.Random, story: _Story) -> list[dict[str, Any]]:
    if not story.surgeries:
        return []
    last_surgery = max(surgery["surg_age_days"] for surgery in story.surgeries)
    earliest = max(story.enrol_age, int(last_surgery / DAYS_PER_MONTH) + 1)
    visits = []
    age = earliest + rng.randint(0, 12)
    for _ in range(_pick(rng, ((1, 50), (2, 35), (3, 15)))):
        if age > story.age_now:
            break
        visits.append(_visit(rng, story, age, last_surgery))
        age += rng.randint(6, 36)
    return visits


def _visit(rng: random.Random, story: _Story, age: int, last_surgery: int) -> dict[str, Any]:
    data: dict[str, Any] = {
        "fu_age_months": age,
        "age_at_last_surgery_days": last_surgery,
        "fu_status": _pick(rng, (("alive", 95), ("lost", 4), ("deceased", 1))),
    }
    if data["fu_status"] != "alive":
        return data
    if story.mm_present:
        status = _pick(rng, (("persistent", 60), ("improved", 25), ("resolved", 15)))
    else:
        status = "never"
    data["fu_mm_status"] = status
    if status in ("persistent", "improved"):
        grade = _pick(rng, ((1, 30), (2, 35), (3, 25), (4, 10)))
        data["fu_wt_grade_left_task"] = str(grade)
        data["fu_wt_grade_right_task"] = str(max(0, grade - rng.choice((0, 1))))
    symptoms = {code for lesion in story.lesions for code in lesion["presenting_symptoms"]}
    before = [code for code in ("vertigo", "vomiting") if code in symptoms]
    data["symptoms_before"] = before or ["none"]
    for code in before:
        data[f"{code}_resolved"] = _yes(rng, 0.85)
    open_defect = story.diagnosis in ("cmmc", "lipomyelomeningocele")
    data["bladder_continence"] = "0" if open_defect and rng.random() < 0.2 else "1"
    data["bowel_continence"] = "0" if open_defect and rng.random() < 0.15 else "1"
    data["fu_long_tract_signs"] = _yes(rng, 0.05)
    data["fu_sensory_problems"] = _yes(rng, 0.05)
    data["fu_new_deficit"] = _yes(rng, 0.02)
    data["fine_motor"] = _pick(rng, (("normal", 85), ("impaired", 15)))
    data["fu_impact"] = (
        "none"
        if status in ("never", "resolved")
        else _pick(rng, (("none", 25), ("mild", 50), ("moderate", 20), ("severe", 5)))
    )
    return data
