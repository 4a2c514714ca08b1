"""The data-quality checks: what each rule of registry/quality/rules.py looks for.

Work is done patient by patient, in batches: one query fetches a batch's submissions, each is
validated once by the form engine (registry.formengine.validation), and the field rules read
that one result; the cross-form rules then look at the batch's patients as a whole. What needs
the whole registry is done in the database: the means and SDs of the 3-SD rule, and the
candidates of the near-duplicate rule. Findings are plain values; registry/quality/services.py
turns them into QualityIssue rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from registry.formengine import logic
from registry.formengine.logic.compiler import Compiled, compile_tree
from registry.formengine.logic.context import Context
from registry.formengine.phi import screen_categories
from registry.formengine.schema import Field, FormSchema
from registry.formengine.validation import FORM_ERRORS, validate_submission
from registry.statistics.catalogue import FormInfo, is_numeric
from registry.statistics.jsonsql import JsonSql

from .rules import (
    BUILT_IN_RULES,
    NEAR_DUPLICATE_DAYS,
    OUTLIER_MIN_VALUES,
    OUTLIER_SDS,
    CustomRule,
)

DAYS_PER_MONTH = 30.44
DERMAL_SINUS_TYPES = frozenset({"occ_dermal_sinus", "cranial_dermal_sinus", "spinal_dermal_sinus"})
SUBMISSIONS = "submissions_submission"
# How many of a patient's near-duplicates its finding names (the message gives the count).
NEAR_DUPLICATE_LISTED = 10

# (form, harmonised field) -> [n, mean, sd]
Baselines = dict[str, dict[str, list[float]]]


@dataclass(slots=True)
class Finding:
    rule: str
    severity: str
    site_id: int
    patient_id: int
    submission_id: int | None
    field: str
    message: str
    key: str = ""
    """What else identifies the finding across runs (the value an outlier was found for)."""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        identity = (
            f"{self.rule}|{self.patient_id}|{self.submission_id or ''}|{self.field}|{self.key}"
        )
        return hashlib.sha256(identity.encode()).hexdigest()


@dataclass(slots=True)
class PatientRow:
    pk: int
    site_id: int
    sex: str
    year_of_birth: int
    pseudonym: str


@dataclass(slots=True)
class SubmissionRow:
    pk: int
    patient_id: int
    form_id: int
    form_version_id: int
    instance: int
    data: dict[str, Any] | None
    raw: str | None = None
    """The document as stored (JSON text), when fetched that way: the memo's key."""


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    text = value if isinstance(value, str) else str(value)
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:39] + "…"


def _or_blank(value: Any) -> str:
    return "blank" if _blank(value) else _shown(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass
class _VersionPlan:
    """What the field rules need of one form version, worked out once per run."""

    info: FormInfo
    number: int
    schema: FormSchema
    to_harmonised: Mapping[str, str]
    required: list[Field]
    choices: dict[str, frozenset[str]]
    calcs: list[Field]
    limits: list[tuple[Field, float | None, float | None]]
    numeric: list[tuple[Field, str]]  # (field, harmonised name) for the 3-SD rule
    custom: list[tuple[CustomRule, Compiled, str]]  # (rule, its `when`, field in this version)
    missing_codes: frozenset[str]
    screened: list[Field]  # free text the identifier screen reads (notes, unvalidated text)
    facts: tuple[tuple[str, tuple[str, ...]], ...]
    """What the cross-form rules read: (harmonised name, the version's names that become it,
    last in form order first)."""


# (rule, severity, field, message, key, details) of one document, before it is tied to a
# submission and a patient.
_Template = tuple[str, str, str, str, str, dict[str, Any]]
# The harmonised fields the cross-form rules (_Facts) read, by form: only these are picked
# out of each document. A rule that reads another field must add it here.
_FACT_FIELDS = {
    "enrollment": ("enrol_age_months",),
    "dysraphic_lesion": ("lesion_type", "tumour_type"),
    "surgery": ("surg_age_days", "lesion_instance", "pathology_type"),
    "follow_up": ("fu_age_months", "age_at_last_surgery_days"),
}
MEMO_LIMIT = 50_000


class QualityChecker:
    """Checks batches of patients. Build one per run."""

    def __init__(
        self,
        catalogue: Mapping[str, FormInfo],
        custom_rules: Sequence[CustomRule],
        baselines: Baselines,
        *,
        today: dt.date | None = None,
        outlier_sd_skip: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.catalogue = catalogue
        self.outlier_sd_skip = frozenset(outlier_sd_skip)
        self.baselines = baselines
        self.today = today or dt.date.today()
        self.forms_by_id = {info.form.pk: info for info in catalogue.values()}
        self.plans: dict[int, _VersionPlan] = {}
        self._memo: dict[tuple[Any, ...], tuple[list[_Template], dict[str, Any]]] = {}
        self._memo_used: set[tuple[Any, ...]] = set()
        for info in catalogue.values():
            custom = [rule for rule in custom_rules if rule.form == info.name]
            for version in info.versions:
                self.plans[version.pk] = self._plan(info, version.pk, version.number, custom)
        # Logic that reads another form reads the patient's first instance of it, as a save
        # does (registry/submissions/other_forms.py): the batch holds every submission of its
        # patients, so the values come from it, with no query.
        self.field_forms: dict[str, int] = {}
        for info in catalogue.values():
            if info.versions:
                newest = max(info.versions, key=lambda version: version.number)
                for f in info.schemas[newest.pk].fields:
                    self.field_forms.setdefault(f.name, info.form.pk)
        self.reads_other_forms = any(plan.schema.external_fields for plan in self.plans.values())

    def _plan(
        self, info: FormInfo, version_id: int, number: int, custom: list[CustomRule]
    ) -> _VersionPlan:
        schema = info.schemas[version_id]
        to_harmonised = dict(info.harmonisation.name_map(number))
        missing = schema.missing_code_set
        data_fields = [f for f in schema.fields if f.stores_data]
        return _VersionPlan(
            info=info,
            number=number,
            schema=schema,
            to_harmonised=to_harmonised,
            required=[f for f in data_fields if f.required and f.type != "calc"],
            choices={
                f.name: frozenset(f.choice_codes) | missing for f in data_fields if f.choice_codes
            },
            calcs=[f for f in data_fields if f.type == "calc"],
            limits=[
                (f, f.limits.min, f.limits.max)
                for f in data_fields
                if f.limits is not None and is_numeric(f)
            ],
            numeric=[
                (f, to_harmonised[f.name])
                for f in data_fields
                if is_numeric(f) and (info.name, to_harmonised[f.name]) not in self.outlier_sd_skip
            ],
            custom=[
                (rule, compile_tree(rule.node), _version_name(to_harmonised, rule.field))
                for rule in custom
            ],
            missing_codes=missing,
            screened=[f for f in data_fields if f.phi_screen],
            facts=tuple(
                (
                    name,
                    tuple(
                        reversed(
                            [
                                f.name
                                for f in schema.fields
                                if to_harmonised.get(f.name, f.name) == name
                            ]
                        )
                    ),
                )
                for name in _FACT_FIELDS.get(info.name, ())
            ),
        )

    # ----------------------------------------------------------------------------------------

    def check_batch(
        self, patients: Mapping[int, PatientRow], submissions: Iterable[SubmissionRow]
    ) -> tuple[list[Finding], int]:
        """Findings for a batch of patients (all their submissions), and how many submissions
        were checked."""
        findings: list[Finding] = []
        facts: dict[int, _Facts] = defaultdict(_Facts)
        checked = 0
        others: dict[int, dict[str, Any]] = {}
        if self.reads_other_forms:
            submissions = list(submissions)
            others = self._other_form_values(submissions)
        for row in submissions:
            plan = self.plans.get(row.form_version_id)
            if plan is None:
                continue
            checked += 1
            patient = patients[row.patient_id]
            templates, cleaned = self._document_findings(
                plan, row, others.get(row.patient_id) if plan.schema.external_fields else None
            )
            for rule, severity, name, message, key, details in templates:
                findings.append(
                    Finding(
                        rule,
                        severity,
                        patient.site_id,
                        patient.pk,
                        row.pk,
                        name,
                        message,
                        key,
                        dict(details),
                    )
                )
            if plan.facts:
                facts[row.patient_id].add(plan.info.name, row, _fact_values(plan, cleaned))
        for patient_id, patient_facts in facts.items():
            patient_facts.check(patients[patient_id], self, findings)
        return findings, checked

    def _finding(
        self,
        rule: str,
        patient: PatientRow,
        submission_id: int | None,
        field: str,
        message: str,
        key: str = "",
        **details: Any,
    ) -> Finding:
        return Finding(
            rule,
            BUILT_IN_RULES[rule].severity,
            patient.site_id,
            patient.pk,
            submission_id,
            field,
            message,
            key,
            details,
        )

    def _other_form_values(self, rows: Sequence[SubmissionRow]) -> dict[int, dict[str, Any]]:
        """patient id -> the values of other forms' fields that some form's logic reads."""
        first: dict[tuple[int, int], SubmissionRow] = {}
        for row in rows:
            key = (row.patient_id, row.form_id)
            if key not in first or row.instance < first[key].instance:
                first[key] = row
        read = set().union(*(plan.schema.external_fields for plan in self.plans.values()))
        by_form: dict[int, list[str]] = defaultdict(list)
        for name in read:
            if name in self.field_forms:
                by_form[self.field_forms[name]].append(name)
        values: dict[int, dict[str, Any]] = defaultdict(dict)
        for (patient_id, form_id), row in first.items():
            names = by_form.get(form_id)
            if not names:
                continue
            data = row.data if row.data is not None else json.loads(row.raw or "{}")
            if isinstance(data, dict):
                values[patient_id].update((name, data[name]) for name in names if name in data)
        return values

    def _document_findings(
        self,
        plan: _VersionPlan,
        row: SubmissionRow,
        other_forms: Mapping[str, Any] | None = None,
    ) -> tuple[list[_Template], dict[str, Any]]:
        """The findings of one stored document, and its cleaned data.

        Every rule of one submission depends only on its form version and its data (and on
        the run's baselines), so identical documents (common: a "mirror movements absent"
        assessment at the same age) are checked once per run. The memo is keyed by the JSON
        text as stored and swept when it grows large, so memory stays bounded.
        """
        memo_key: tuple[Any, ...] | None = (
            (row.form_version_id, row.raw) if row.raw is not None else None
        )
        if memo_key is not None and other_forms is not None:
            # The same document judged on other answers of another form is another case.
            memo_key = (
                *memo_key,
                json.dumps(
                    [other_forms.get(name) for name in sorted(plan.schema.external_fields)],
                    sort_keys=True,
                ),
            )
        if memo_key is not None:
            known = self._memo.get(memo_key)
            if known is not None:
                self._memo_used.add(memo_key)
                return known
        data = row.data if row.data is not None else json.loads(row.raw or "{}")
        outcome = self._check_document(plan, data if isinstance(data, dict) else {}, other_forms)
        if memo_key is not None:
            if len(self._memo) >= MEMO_LIMIT:
                # Keep the documents met again since the last sweep (those that recur all
                # through the registry) and drop the rest.
                self._memo = {key: self._memo[key] for key in self._memo_used}
                self._memo_used = set()
            self._memo[memo_key] = outcome
        return outcome

    def _check_document(
        self,
        plan: _VersionPlan,
        data: dict[str, Any],
        other_forms: Mapping[str, Any] | None = None,
    ) -> tuple[list[_Template], dict[str, Any]]:
        result = validate_submission(plan.schema, data, today=self.today, other_forms=other_forms)
        fields = plan.schema.fields_by_name
        flagged: set[str] = set()
        out: list[_Template] = []

        def add(rule: str, name: str, message: str, key: str = "", **details: Any) -> None:
            out.append((rule, BUILT_IN_RULES[rule].severity, name, message, key, details))

        hidden = result.hidden
        for name in data:
            if name not in hidden:
                continue
            f = fields.get(name)
            if f is not None and f.type != "calc":
                flagged.add(name)
                add(
                    "hidden_value",
                    name,
                    f"{f.display_name} holds a value but is not asked given the other answers "
                    f"(it shows only if {f.show_if}). Clear it, or correct the answer it "
                    "depends on.",
                )
        for f in plan.required:
            if f.name not in result.hidden and _blank(data.get(f.name)):
                flagged.add(f.name)
                add("required_blank", f.name, f"{f.display_name} is required but blank.")
        for name, value in data.items():
            codes = plan.choices.get(name)
            if codes is None or name in flagged or _blank(value):
                continue
            if type(value) is str and value in codes:
                continue
            unknown = [
                item
                for item in (value if isinstance(value, list) else [value])
                if not isinstance(item, str) or item not in codes
            ]
            if unknown:
                flagged.add(name)
                shown = ", ".join(repr(_shown(item)) for item in unknown)
                add(
                    "choice_unknown",
                    name,
                    f"{fields[name].display_name} holds {shown}, which is not one of its "
                    "choices. Choose one of the form's answers.",
                    key=shown,
                )
        for f in plan.screened:
            value = data.get(f.name)
            # Checked even when the field is flagged as hidden: hidden text leaks all the same.
            if not isinstance(value, str):
                continue
            kinds = screen_categories(value)
            if kinds:
                # Said by kind, never by the text: the finding must not copy the identifier.
                flagged.add(f.name)
                said = ", ".join(_IDENTIFIER_KINDS.get(kind, kind) for kind in kinds)
                add(
                    "identifier_in_free_text",
                    f.name,
                    f"{f.display_name} holds what looks like an identifier ({said}). Remove "
                    "it from the text: the registry must not hold names, contact details, "
                    "dates or hospital numbers.",
                    key="+".join(kinds),
                )
        for name, messages in result.errors.items():
            if name in flagged:
                continue
            add(
                "invalid_value",
                "" if name == FORM_ERRORS else name,
                " ".join(messages),
                key=_shown(data.get(name, "")),
            )
        for f in plan.calcs:
            stored, computed = data.get(f.name), result.data.get(f.name)
            if not _same_number(stored, computed):
                was, gives = _or_blank(stored), _or_blank(computed)
                add(
                    "calc_mismatch",
                    f.name,
                    f"{f.display_name} is stored as {was} but its calculation gives {gives}. "
                    "Save the form again to recompute it.",
                    key=f"{was}>{gives}",
                )
        for f, low, high in plan.limits:
            value = data.get(f.name)
            if not _is_number(value) or f.name in flagged:
                continue
            if (low is not None and value < low) or (high is not None and value > high):
                add(
                    "outlier_limits",
                    f.name,
                    f"{f.display_name} is {_shown(value)}, outside the plausible range "
                    f"{_shown(low) if low is not None else '…'} to "
                    f"{_shown(high) if high is not None else '…'}. Check the value.",
                    key=_shown(value),
                    low=low,
                    high=high,
                )
        baselines = self.baselines.get(plan.info.name, {})
        for f, harmonised in plan.numeric:
            value = data.get(f.name)
            moments = baselines.get(harmonised)
            if not _is_number(value) or moments is None or f.name in flagged:
                continue
            n, mean, sd = moments
            if n >= OUTLIER_MIN_VALUES and sd > 0 and abs(value - mean) > OUTLIER_SDS * sd:
                add(
                    "outlier_sd",
                    f.name,
                    f"{f.display_name} is {_shown(value)}, more than 3 standard deviations "
                    f"from the registry's mean ({mean:.1f}, SD {sd:.1f}). Check the value.",
                    key=_shown(value),
                    mean=round(mean, 3),
                    sd=round(sd, 3),
                )
        if plan.custom:
            values = {plan.to_harmonised[k]: v for k, v in result.data.items()}
            ctx = Context(values, self.today, plan.missing_codes, None)
            for rule, when, name in plan.custom:
                try:
                    outcome = when(ctx)
                except logic.LogicEvaluationError:
                    continue
                if logic.truthy(outcome):
                    out.append((rule.code, rule.severity, name, rule.message, "", {}))
        return out, result.data


_IDENTIFIER_KINDS = {
    "email": "an e-mail address",
    "url": "a web address",
    "ip_address": "an IP address",
    "date": "a calendar date",
    "name": "a name",
    "address": "a street address",
    "id_number": "an identification or record number",
    "postal_code": "a postal code",
    "phone": "a phone number",
}


def _version_name(to_harmonised: Mapping[str, str], harmonised: str) -> str:
    for name, target in to_harmonised.items():
        if target == harmonised:
            return name
    return ""


def _fact_values(plan: _VersionPlan, cleaned: Mapping[str, Any]) -> dict[str, Any]:
    """The answers the cross-form rules read, by harmonised name."""
    values: dict[str, Any] = {}
    for name, sources in plan.facts:
        for source in sources:
            if source in cleaned:
                values[name] = cleaned[source]
                break
    return values


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _same_number(stored: Any, computed: Any) -> bool:
    if _blank(stored) and computed is None:
        return True
    if not _is_number(stored) or not _is_number(computed):
        return False
    return math.isclose(stored, computed, rel_tol=1e-9, abs_tol=1e-9)


# --------------------------------------------------------------------------------------------
# Cross-form rules over one patient's forms


@dataclass
class _Facts:
    enrolments: list[tuple[int, int, Any]] = field(default_factory=list)
    lesions: dict[int, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    surgeries: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)
    follow_ups: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)

    def add(self, form: str, row: SubmissionRow, values: dict[str, Any]) -> None:
        if form == "enrollment":
            self.enrolments.append((row.pk, row.instance, values.get("enrol_age_months")))
        elif form == "dysraphic_lesion":
            self.lesions[row.instance] = (row.pk, values)
        elif form == "surgery":
            self.surgeries.append((row.pk, row.instance, values))
        elif form == "follow_up":
            self.follow_ups.append((row.pk, row.instance, values))

    def check(self, patient: PatientRow, checker: QualityChecker, out: list[Finding]) -> None:
        make = checker._finding
        if len(self.enrolments) > 1:
            ordered = sorted(self.enrolments, key=lambda item: item[1])
            for pk, instance, _ in ordered[1:]:
                out.append(
                    make(
                        "duplicate_enrolment",
                        patient,
                        pk,
                        "",
                        f"This patient has {len(ordered)} Enrolment forms (this is #{instance}): "
                        "the same patient was enrolled twice. Check which one is right and ask a "
                        "curator to remove the other.",
                    )
                )
        enrol_age = next(
            (age for _, _, age in sorted(self.enrolments, key=lambda e: e[1]) if _is_number(age)),
            None,
        )
        surgery_days = [
            values["surg_age_days"]
            for _, _, values in self.surgeries
            if _is_number(values.get("surg_age_days"))
        ]
        for pk, instance, values in self.follow_ups:
            age = values.get("fu_age_months")
            if not self.surgeries:
                out.append(
                    make(
                        "follow_up_without_surgery",
                        patient,
                        pk,
                        "",
                        f"Follow-up #{instance} is recorded, but the patient has no Surgery form. "
                        "Add the surgery, or check that the visit belongs to this patient.",
                    )
                )
            if not _is_number(age):
                continue
            named = values.get("age_at_last_surgery_days")
            before = named if _is_number(named) else min(surgery_days, default=None)
            if before is not None and age * DAYS_PER_MONTH < before:
                out.append(
                    make(
                        "surgery_after_follow_up",
                        patient,
                        pk,
                        "fu_age_months",
                        f"Follow-up #{instance} is at {_shown(age)} months, before the surgery it "
                        f"follows (at {_shown(before)} days, about {before / DAYS_PER_MONTH:.0f} "
                        "months). Check the ages on this visit and on the Surgery form.",
                        key=f"{_shown(age)}<{_shown(before)}",
                    )
                )
            if enrol_age is not None and age < enrol_age:
                out.append(
                    make(
                        "follow_up_before_enrolment",
                        patient,
                        pk,
                        "fu_age_months",
                        f"Follow-up #{instance} is at {_shown(age)} months, before the age at "
                        f"enrolment ({_shown(enrol_age)} months). Check both ages.",
                        key=f"{_shown(age)}<{_shown(enrol_age)}",
                    )
                )
        lesion_numbers = sorted(self.lesions)
        for pk, instance, values in self.surgeries:
            target = values.get("lesion_instance")
            if not lesion_numbers:
                out.append(
                    make(
                        "surgery_without_lesion",
                        patient,
                        pk,
                        "lesion_instance",
                        f"Surgery #{instance} is recorded, but the patient has no Dysraphic lesion "
                        "form. Add the lesion the operation treated.",
                    )
                )
            elif _is_number(target) and target not in self.lesions:
                numbers = ", ".join(str(n) for n in lesion_numbers)
                out.append(
                    make(
                        "surgery_without_lesion",
                        patient,
                        pk,
                        "lesion_instance",
                        f"Surgery #{instance} refers to lesion {_shown(target)}, but the patient's "
                        f"Dysraphic lesion forms are numbered {numbers}. Correct the lesion "
                        "number.",
                        key=_shown(target),
                    )
                )
        has_sinus = any(
            values.get("lesion_type") in DERMAL_SINUS_TYPES for _, values in self.lesions.values()
        )
        if not has_sinus:
            for instance, (pk, values) in sorted(self.lesions.items()):
                if values.get("tumour_type") == "dermoid":
                    out.append(
                        make(
                            "dermoid_without_sinus",
                            patient,
                            pk,
                            "tumour_type",
                            f"A dermoid tumour is recorded on Dysraphic lesion #{instance}, but "
                            "the "
                            "patient has no dermal sinus lesion. Check the tumour type or the "
                            "lesion type.",
                        )
                    )
            for pk, instance, values in self.surgeries:
                if values.get("pathology_type") == "dermoid":
                    out.append(
                        make(
                            "dermoid_without_sinus",
                            patient,
                            pk,
                            "pathology_type",
                            f"Pathology of surgery #{instance} found a dermoid, but the patient "
                            "has "
                            "no dermal sinus lesion. Check the pathology or the lesion type.",
                        )
                    )


# --------------------------------------------------------------------------------------------
# What needs the whole registry: numeric baselines and near-duplicate candidates


def numeric_baselines(catalogue: Mapping[str, FormInfo]) -> Baselines:
    """n, mean and SD of every numeric field of every form, one aggregate query per form."""
    sql = JsonSql()
    baselines: Baselines = {}
    for info in catalogue.values():
        fields = [h for h in info.data_fields() if is_numeric(h.field)]
        if not fields:
            continue
        parts = []
        for harmonised in fields:
            value = sql.by_version("s", info.version_names(harmonised), "number")
            parts += [f"COUNT({value})", f"AVG({value})", f"SUM(({value}) * ({value}))"]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(parts)} FROM {SUBMISSIONS} s WHERE s.form_id = %s",
                [info.form.pk],
            )
            row = cursor.fetchone()
        form_baselines = baselines.setdefault(info.name, {})
        for index, harmonised in enumerate(fields):
            n, mean, squares = row[3 * index : 3 * index + 3]
            n = int(n or 0)
            if n < 2:
                continue
            mean, squares = float(mean), float(squares)
            variance = max(0.0, (squares - n * mean * mean) / (n - 1))
            form_baselines[harmonised.name] = [n, mean, math.sqrt(variance)]
    return baselines


@dataclass(frozen=True)
class Signature:
    """What the near-duplicate rule compares: one patient's identity-like facts."""

    patient_id: int
    site_id: int
    pseudonym: str
    sex: str
    year_of_birth: int
    lesions: frozenset[tuple[Any, ...]]
    """(type, level, then the lesion's anatomy answers: stalk, tumour, Chiari, ...)."""
    surgeries: tuple[tuple[int, tuple[str, ...]], ...]
    """(age in days, procedures), by age."""


# Answers of the lesion form that the same person's two records would share.
LESION_PROFILE = (
    "prenatal_dx",
    "nfv_stalk",
    "tumour_present",
    "tethered_cord",
    "chiari",
    "hydrocephalus",
    "syringomyelia",
)


def near_duplicate_signatures(
    catalogue: Mapping[str, FormInfo], patient_ids: Iterable[int] | None = None
) -> dict[int, Signature]:
    """Signatures of the patients with a lesion and a surgery; all of them, or the candidates
    that could match `patient_ids` (same sex and year of birth, a lesion of the same type and
    level)."""
    lesion, surgery = catalogue.get("dysraphic_lesion"), catalogue.get("surgery")
    if lesion is None or surgery is None:
        return {}
    sql = JsonSql()

    def value(info: FormInfo, name: str, kind: str) -> str:
        return sql.by_version("s", info.version_names(info.harmonised_field(name)), kind)

    kind, level = value(lesion, "lesion_type", "text"), value(lesion, "lesion_level", "text")
    profile = [
        value(lesion, name, "text")
        for name in LESION_PROFILE
        if name in lesion.harmonisation.field_names
    ]
    days = value(surgery, "surg_age_days", "number")
    procedures = value(surgery, "procedures", "text")
    missing = sorted(
        {code for schema in lesion.schemas.values() for code in schema.missing_code_set}
    ) or ["-"]
    marks = ", ".join(["%s"] * len(missing))
    base = (
        f"SELECT s.patient_id, p.site_id, p.pseudonym, p.sex, p.year_of_birth, {kind}, "
        f"{level}{''.join(', ' + column for column in profile)} FROM {SUBMISSIONS} s "
        "JOIN patients_patient p ON p.id = s.patient_id "
        f"WHERE s.form_id = %s AND {kind} IS NOT NULL AND {level} IS NOT NULL "
        f"AND {kind} NOT IN ({marks}) AND {level} NOT IN ({marks})"
    )
    params: list[Any] = [lesion.form.pk, *missing, *missing]
    rows: list[tuple[Any, ...]] = []
    if patient_ids is None:
        rows = _fetch(base, params)
    else:
        keys: set[tuple[Any, ...]] = set()
        for chunk in _chunks(list(set(patient_ids)), 500):
            found = _fetch(
                base + f" AND s.patient_id IN ({', '.join(['%s'] * len(chunk))})", params + chunk
            )
            keys |= {(row[3], row[4], row[5], row[6]) for row in found}
        # One pass over the lesion forms finds the candidates, matched on the whole key (sex,
        # year of birth, lesion type and level) in the database, so that only their ids come
        # back; then all of each candidate's lesions are read, so that their signatures are
        # whole, as in a full run (a lesion of another type or level is what tells two
        # patients apart).
        candidates: set[int] = set()
        key_batch = (connection.features.max_query_params or 40_000) // 4 - 1
        for chunk in _chunks(sorted(keys), key_batch):
            values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
            candidates |= {
                row[0]
                for row in _fetch(
                    f"SELECT DISTINCT s.patient_id FROM {SUBMISSIONS} s "
                    "JOIN patients_patient p ON p.id = s.patient_id "
                    f"JOIN (VALUES {values}) k ON k.column1 = p.sex "
                    f"AND k.column2 = p.year_of_birth AND k.column3 = {kind} AND k.column4 = "
                    f"{level} "
                    "WHERE s.form_id = %s",
                    [*(part for key in chunk for part in key), lesion.form.pk],
                )
            }
        for chunk in _chunks(sorted(candidates), 500):
            rows += _fetch(
                base + f" AND s.patient_id IN ({', '.join(['%s'] * len(chunk))})", params + chunk
            )
    patients: dict[int, tuple[int, str, str, int]] = {}
    lesions: dict[int, set[tuple[Any, ...]]] = defaultdict(set)
    for patient_id, site_id, pseudonym, sex, year, *answers in rows:
        patients[patient_id] = (site_id, pseudonym, sex, year)
        lesions[patient_id].add(tuple(answers))
    surgeries: dict[int, list[tuple[int, tuple[str, ...]]]] = defaultdict(list)
    surgery_sql = (
        f"SELECT s.patient_id, {days}, {procedures} FROM {SUBMISSIONS} s "
        f"WHERE s.form_id = %s AND {days} IS NOT NULL"
    )
    if patient_ids is None:
        # Everyone's: one streamed pass rather than hundreds of id lists.
        for patient_id, age, done in _stream(surgery_sql, [surgery.form.pk]):
            if patient_id in patients:
                surgeries[patient_id].append((int(age), _codes(done)))
    else:
        for chunk in _chunks(sorted(patients), 500):
            for patient_id, age, done in _fetch(
                surgery_sql + f" AND s.patient_id IN ({', '.join(['%s'] * len(chunk))})",
                [surgery.form.pk, *chunk],
            ):
                surgeries[patient_id].append((int(age), _codes(done)))
    return {
        pk: Signature(
            pk, site_id, pseudonym, sex, year, frozenset(lesions[pk]), tuple(sorted(surgeries[pk]))
        )
        for pk, (site_id, pseudonym, sex, year) in patients.items()
        if surgeries.get(pk)
    }


def _codes(text: Any) -> tuple[str, ...]:
    """A checkbox's codes from its JSON text (or a missing code), in a stable order."""
    if text is None:
        return ()
    try:
        value = json.loads(text) if isinstance(text, str) and text.startswith("[") else text
    except ValueError:
        return (str(text),)
    return tuple(sorted(map(str, value))) if isinstance(value, list) else (str(value),)


def near_duplicate_matches(signatures: Mapping[int, Signature]) -> dict[int, list[Signature]]:
    """For each patient, the patients at other sites that look like the same person.

    Patients are grouped by sex, year of birth and lesion type and level; within a group,
    sorted by the age at their first surgery, only those within a few days are compared.
    """
    groups: dict[tuple[Any, ...], list[Signature]] = defaultdict(list)
    for signature in signatures.values():
        for lesion_key in signature.lesions:
            groups[(signature.sex, signature.year_of_birth, *lesion_key[:2])].append(signature)
    matches: dict[int, dict[int, Signature]] = defaultdict(dict)
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda s: s.surgeries[0][0])
        start = 0
        for index, current in enumerate(members):
            first = current.surgeries[0][0]
            while first - members[start].surgeries[0][0] > NEAR_DUPLICATE_DAYS:
                start += 1
            for other in members[start:index]:
                if other.site_id != current.site_id and _alike(current, other):
                    matches[current.patient_id][other.patient_id] = other
                    matches[other.patient_id][current.patient_id] = current
    return {pk: sorted(found.values(), key=lambda s: s.patient_id) for pk, found in matches.items()}


def _alike(a: Signature, b: Signature) -> bool:
    """Same lesions (type, level and anatomy), same operations at ages a few days apart."""
    return (
        a.lesions == b.lesions
        and len(a.surgeries) == len(b.surgeries)
        and all(
            abs(x[0] - y[0]) <= NEAR_DUPLICATE_DAYS and x[1] == y[1]
            for x, y in zip(a.surgeries, b.surgeries, strict=True)
        )
    )


def near_duplicate_findings(
    signatures: Mapping[int, Signature],
    matches: Mapping[int, list[Signature]],
    patient_ids: Iterable[int],
) -> list[Finding]:
    rule = BUILT_IN_RULES["near_duplicate_patient"]
    findings = []
    for pk in patient_ids:
        found = matches.get(pk)
        if not found:
            continue
        me = signatures[pk]
        count = len(found)
        findings.append(
            Finding(
                rule.code,
                rule.severity,
                me.site_id,
                pk,
                None,
                "",
                f"This patient may be the same person as {count} patient{'s' if count > 1 else ''} "
                "at another site: same sex, year of birth, lesion type and level, and surgery at "
                f"the same ages within {NEAR_DUPLICATE_DAYS} days. A curator will compare the "
                "records.",
                details={
                    "matches": [
                        {
                            "patient_id": other.patient_id,
                            "pseudonym": other.pseudonym,
                            "site_id": other.site_id,
                        }
                        for other in found[:NEAR_DUPLICATE_LISTED]
                    ]
                },
            )
        )
    return findings


def _fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return list(cursor.fetchall())


def _stream(sql: str, params: Sequence[Any], size: int = 10_000) -> Iterator[tuple[Any, ...]]:
    """The rows of a query, fetched a few thousand at a time (a server-side cursor on
    PostgreSQL), so that a pass over the whole registry holds only one slice in memory."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, list(params))
        while rows := cursor.fetchmany(size):
            yield from rows


def _chunks(items: Sequence[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
