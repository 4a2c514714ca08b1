"""The data-quality checks: what each rule of registry/quality/rules.py looks for.

Work is done patient by patient, in batches: one query fetches a batch's submissions, each is
validated once by the form engine (registry.formengine.validation), and the field rules read
that one result; the cross-form rules then look at the batch's patients as a whole, reading the
forms and fields forms/quality_rules.yaml declares for them (`PATIENT_CHECKS`). What needs
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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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
    CrossFormRule,
    CustomRule,
)

DAYS_PER_MONTH = 30.44
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
    collected: bool
    """The cross-form rules read this form: its submissions are gathered by patient."""
    facts: tuple[tuple[str, tuple[str, ...]], ...]
    """The fields they read: (harmonised name, the version's names that become it, last in
    form order first)."""


# (rule, severity, field, message, key, details) of one document, before it is tied to a
# submission and a patient.
_Template = tuple[str, str, str, str, str, dict[str, Any]]
# One submission as the cross-form rules see it: (id, instance, the answers they read by
# harmonised name).
_Entry = tuple[int, int, dict[str, Any]]
# A patient's submissions of the forms the cross-form rules read, by form name.
PatientForms = Mapping[str, list[_Entry]]
PatientCheck = Callable[[PatientRow, PatientForms, list[Finding]], None]
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
        cross_form: Mapping[str, CrossFormRule] | None = None,
    ) -> None:
        self.catalogue = catalogue
        # The cross-form rules' names are looked up here, once: per patient, each rule reads
        # the answers its declaration names, gathered from the batch's documents.
        self.patient_checks: list[PatientCheck] = []
        self.fact_fields: dict[str, list[str]] = {}
        for code, rule in (cross_form or {}).items():
            make = PATIENT_CHECKS.get(code)
            if make is None:
                continue
            self.patient_checks.append(make(rule, _titles(catalogue)))
            for form in sorted(rule.forms_read):
                self.fact_fields.setdefault(form, [])
            for uses in rule.fields.values():
                for use in uses:
                    if use.field not in self.fact_fields[use.form]:
                        self.fact_fields[use.form].append(use.field)
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
            collected=info.name in self.fact_fields,
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
                for name in self.fact_fields.get(info.name, ())
            ),
        )

    # ----------------------------------------------------------------------------------------

    def check_batch(
        self, patients: Mapping[int, PatientRow], submissions: Iterable[SubmissionRow]
    ) -> tuple[list[Finding], int]:
        """Findings for a batch of patients (all their submissions), and how many submissions
        were checked."""
        findings: list[Finding] = []
        facts: dict[int, dict[str, list[_Entry]]] = defaultdict(lambda: defaultdict(list))
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
            if plan.collected:
                facts[row.patient_id][plan.info.name].append(
                    (row.pk, row.instance, _fact_values(plan, cleaned))
                )
        for patient_id, patient_forms in facts.items():
            patient = patients[patient_id]
            for check in self.patient_checks:
                check(patient, patient_forms, findings)
        return findings, checked

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


def _is_code(value: Any, codes: frozenset[str]) -> bool:
    return isinstance(value, str) and value in codes


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


def _titles(catalogue: Mapping[str, FormInfo]) -> Callable[[str], str]:
    """A form's title, for the findings' messages."""
    return lambda form: catalogue[form].form.title if form in catalogue else form


def _finding(
    rule: CrossFormRule,
    patient: PatientRow,
    submission_id: int | None,
    field: str,
    message: str,
    key: str = "",
) -> Finding:
    return Finding(
        rule.code, rule.severity, patient.site_id, patient.pk, submission_id, field, message, key
    )


# Each cross-form rule: given its declaration (and the forms' titles), the check of one
# patient's forms. The names are taken out of the declaration once, when the check is made.


def _surgery_after_follow_up(rule: CrossFormRule, title: Callable[[str], str]) -> PatientCheck:
    use = rule.field_use("follow_up_age_months")
    follow_up, age_field = use.form, use.field
    last_field = rule.field_use("last_surgery_age_days").field
    use = rule.field_use("surgery_age_days")
    surgery, days_field = use.form, use.field
    visit, operation = title(follow_up), title(surgery)

    def check(patient: PatientRow, forms: PatientForms, out: list[Finding]) -> None:
        visits = forms.get(follow_up)
        if not visits:
            return
        surgery_days = [
            values[days_field]
            for _, _, values in forms.get(surgery, ())
            if _is_number(values.get(days_field))
        ]
        for pk, instance, values in visits:
            age = values.get(age_field)
            if not _is_number(age):
                continue
            named = values.get(last_field)
            before = named if _is_number(named) else min(surgery_days, default=None)
            if before is not None and age * DAYS_PER_MONTH < before:
                out.append(
                    _finding(
                        rule,
                        patient,
                        pk,
                        age_field,
                        f"{visit} #{instance} is at {_shown(age)} months, before the surgery it "
                        f"follows (at {_shown(before)} days, about {before / DAYS_PER_MONTH:.0f} "
                        f"months). Check the ages on this visit and on the {operation} form.",
                        key=f"{_shown(age)}<{_shown(before)}",
                    )
                )

    return check


def _follow_up_before_enrolment(rule: CrossFormRule, title: Callable[[str], str]) -> PatientCheck:
    use = rule.field_use("enrolment_age_months")
    enrolment, enrolment_field = use.form, use.field
    use = rule.field_use("follow_up_age_months")
    follow_up, age_field = use.form, use.field
    visit = title(follow_up)

    def check(patient: PatientRow, forms: PatientForms, out: list[Finding]) -> None:
        visits = forms.get(follow_up)
        if not visits:
            return
        enrol_age = next(
            (
                values.get(enrolment_field)
                for _, _, values in sorted(forms.get(enrolment, ()), key=lambda e: e[1])
                if _is_number(values.get(enrolment_field))
            ),
            None,
        )
        if enrol_age is None:
            return
        for pk, instance, values in visits:
            age = values.get(age_field)
            if _is_number(age) and age < enrol_age:
                out.append(
                    _finding(
                        rule,
                        patient,
                        pk,
                        age_field,
                        f"{visit} #{instance} is at {_shown(age)} months, before the age at "
                        f"enrolment ({_shown(enrol_age)} months). Check both ages.",
                        key=f"{_shown(age)}<{_shown(enrol_age)}",
                    )
                )

    return check


def _follow_up_without_surgery(rule: CrossFormRule, title: Callable[[str], str]) -> PatientCheck:
    follow_up, surgery = rule.forms["follow_up_form"], rule.forms["surgery_form"]
    visit, operation = title(follow_up), title(surgery)

    def check(patient: PatientRow, forms: PatientForms, out: list[Finding]) -> None:
        if forms.get(surgery):
            return
        for pk, instance, _ in forms.get(follow_up, ()):
            out.append(
                _finding(
                    rule,
                    patient,
                    pk,
                    "",
                    f"{visit} #{instance} is recorded, but the patient has no {operation} form. "
                    "Add the surgery, or check that the visit belongs to this patient.",
                )
            )

    return check


def _surgery_without_lesion(rule: CrossFormRule, title: Callable[[str], str]) -> PatientCheck:
    lesion = rule.forms["lesion_form"]
    use = rule.field_use("lesion_number")
    surgery, number_field = use.form, use.field
    lesion_title, operation = title(lesion), title(surgery)

    def check(patient: PatientRow, forms: PatientForms, out: list[Finding]) -> None:
        operations = forms.get(surgery)
        if not operations:
            return
        lesions = {instance for _, instance, _ in forms.get(lesion, ())}
        for pk, instance, values in operations:
            target = values.get(number_field)
            if not lesions:
                out.append(
                    _finding(
                        rule,
                        patient,
                        pk,
                        number_field,
                        f"{operation} #{instance} is recorded, but the patient has no "
                        f"{lesion_title} form. Add the lesion the operation treated.",
                    )
                )
            elif _is_number(target) and target not in lesions:
                numbers = ", ".join(str(n) for n in sorted(lesions))
                out.append(
                    _finding(
                        rule,
                        patient,
                        pk,
                        number_field,
                        f"{operation} #{instance} refers to lesion {_shown(target)}, but the "
                        f"patient's {lesion_title} forms are numbered {numbers}. Correct the "
                        "lesion number.",
                        key=_shown(target),
                    )
                )

    return check


def _dermoid_without_sinus(rule: CrossFormRule, title: Callable[[str], str]) -> PatientCheck:
    kind = rule.field_use("kind_of_lesion")
    sinus_codes = rule.codes["dermal_sinus_codes"]
    tumour, pathology = rule.field_use("lesion_tumour"), rule.field_use("pathology")
    dermoid = rule.codes["dermoid_codes"]
    tumour_title, pathology_title = title(tumour.form), title(pathology.form)

    def check(patient: PatientRow, forms: PatientForms, out: list[Finding]) -> None:
        tumours, pathologies = forms.get(tumour.form), forms.get(pathology.form)
        if not tumours and not pathologies:
            return
        if any(
            _is_code(values.get(kind.field), sinus_codes)
            for _, _, values in forms.get(kind.form, ())
        ):
            return
        for pk, instance, values in sorted(tumours or (), key=lambda entry: entry[1]):
            if _is_code(values.get(tumour.field), dermoid):
                out.append(
                    _finding(
                        rule,
                        patient,
                        pk,
                        tumour.field,
                        f"A dermoid tumour is recorded on {tumour_title} #{instance}, but the "
                        "patient has no dermal sinus lesion. Check the tumour type or the "
                        "lesion type.",
                    )
                )
        for pk, instance, values in pathologies or ():
            if _is_code(values.get(pathology.field), dermoid):
                out.append(
                    _finding(
                        rule,
                        patient,
                        pk,
                        pathology.field,
                        f"Pathology of {pathology_title} #{instance} found a dermoid, but the "
                        "patient has no dermal sinus lesion. Check the pathology or the lesion "
                        "type.",
                    )
                )

    return check


def _duplicate_enrolment(rule: CrossFormRule, title: Callable[[str], str]) -> PatientCheck:
    enrolment = rule.forms["enrolment_form"]
    enrolment_title = title(enrolment)

    def check(patient: PatientRow, forms: PatientForms, out: list[Finding]) -> None:
        enrolments = forms.get(enrolment)
        if not enrolments or len(enrolments) < 2:
            return
        ordered = sorted(enrolments, key=lambda entry: entry[1])
        for pk, instance, _ in ordered[1:]:
            out.append(
                _finding(
                    rule,
                    patient,
                    pk,
                    "",
                    f"This patient has {len(ordered)} {enrolment_title} forms (this is "
                    f"#{instance}): the same patient was enrolled twice. Check which one is "
                    "right and ask a curator to remove the other.",
                )
            )

    return check


# The rules over one patient's forms, by code (near_duplicate_patient compares patients with
# each other, in the database: near_duplicate_signatures below).
PATIENT_CHECKS: dict[str, Callable[[CrossFormRule, Callable[[str], str]], PatientCheck]] = {
    "duplicate_enrolment": _duplicate_enrolment,
    "follow_up_without_surgery": _follow_up_without_surgery,
    "surgery_after_follow_up": _surgery_after_follow_up,
    "follow_up_before_enrolment": _follow_up_before_enrolment,
    "surgery_without_lesion": _surgery_without_lesion,
    "dermoid_without_sinus": _dermoid_without_sinus,
}


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


def near_duplicate_signatures(
    catalogue: Mapping[str, FormInfo],
    rule: CrossFormRule | None,
    patient_ids: Iterable[int] | None = None,
) -> dict[int, Signature]:
    """Signatures of the patients with a lesion and a surgery, as `rule` (its declaration in
    forms/quality_rules.yaml) names them; all of them, or the candidates that could match
    `patient_ids` (same sex and year of birth, a lesion of the same type and level). None
    without the rule."""
    if rule is None:
        return {}
    lesion = catalogue[rule.field_use("kind_of_lesion").form]
    surgery = catalogue[rule.field_use("surgery_age_days").form]
    sql = JsonSql()

    def value(key: str, kind: str, index: int = 0) -> str:
        use = rule.fields[key][index]
        info = catalogue[use.form]
        return sql.by_version("s", info.version_names(info.harmonised_field(use.field)), kind)

    kind, level = value("kind_of_lesion", "text"), value("level_of_lesion", "text")
    profile = [
        value("lesion_profile", "text", index)
        for index in range(len(rule.fields["lesion_profile"]))
    ]
    days = value("surgery_age_days", "number")
    procedures = value("operations", "text")
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
    rule: CrossFormRule | None,
    signatures: Mapping[int, Signature],
    matches: Mapping[int, list[Signature]],
    patient_ids: Iterable[int],
) -> list[Finding]:
    if rule is None:
        return []
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
