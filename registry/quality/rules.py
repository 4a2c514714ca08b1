"""The data-quality rules, declared in one place.

Built-in rules are listed in `BUILT_IN_RULES`; custom rules, written in the form engine's logic
language, are read from `forms/quality_rules.yaml` (settings.QUALITY_RULES_FILE) by
`load_custom_rules`. `all_rules()` gives both. Every rule has a code (what issues and exports
call it), a severity, a title and a plain-language description of what it looks for; the
checks themselves live in registry/quality/checks.py.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

from registry.formengine import logic
from registry.formengine.harmonise import Harmonisation

from .models import Severity

_CODE = re.compile(r"[a-z][a-z0-9_]{2,59}")


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    title: str
    description: str
    kind: str = "built-in"  # built-in or custom


@dataclass(frozen=True)
class CustomRule(Rule):
    """A rule in the logic language: `when` is true for a submission that has the problem."""

    form: str = ""
    field: str = ""
    when: str = ""
    message: str = ""
    node: Any = None


def _rule(code: str, severity: str, title: str, description: str) -> Rule:
    return Rule(code, severity, title, description)


BUILT_IN_RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        # Checks of one submission against its form version, reusing the form engine's validation.
        _rule(
            "required_blank",
            Severity.ERROR,
            "Required field left blank",
            "A required field that is shown, given the other answers, has no value.",
        ),
        _rule(
            "invalid_value",
            Severity.ERROR,
            "Value fails the field's validation",
            "A value the form would refuse today: wrong type, out of the allowed range, "
            "not in the expected format, or a field the form version does not have.",
        ),
        _rule(
            "identifier_in_free_text",
            Severity.ERROR,
            "Identifier in free text",
            "Free text (a notes field, or text without a validation, that the identifier screen "
            "reads) holds what looks like a name, a contact detail, a date or a hospital or "
            "national number: most often text stored before the screen caught that kind. "
            "Remove it.",
        ),
        _rule(
            "choice_unknown",
            Severity.ERROR,
            "Answer not among the choices",
            "A multiple-choice answer whose code is not one of the field's choices.",
        ),
        _rule(
            "hidden_value",
            Severity.WARNING,
            "Hidden field holds a value",
            "A field that is not asked given the other answers (its branching logic is false) "
            "still holds a value, for example a Woods & Teuber grade when mirror movements "
            "are absent.",
        ),
        _rule(
            "calc_mismatch",
            Severity.WARNING,
            "Calculated field differs from its calculation",
            "A calculated field's stored value is not what its calculation gives from the "
            "stored answers.",
        ),
        _rule(
            "outlier_limits",
            Severity.WARNING,
            "Outside the plausible range",
            "A number outside the plausible range the form declares for the field (`limits`).",
        ),
        _rule(
            "outlier_sd",
            Severity.INFO,
            "Unusual value (beyond 3 SD)",
            "A number more than 3 standard deviations from the mean of the field across the "
            "registry (judged only once a field has 20 values or more).",
        ),
        # Checks across the forms of one patient (CRF-SPEC.md, "Cross-form rules").
        _rule(
            "surgery_after_follow_up",
            Severity.ERROR,
            "Follow-up before the surgery",
            "A follow-up visit at an age before the surgery it follows: before the age at the "
            "last surgery the visit gives, or, when it gives none, before the patient's "
            "earliest surgery.",
        ),
        _rule(
            "follow_up_before_enrolment",
            Severity.WARNING,
            "Follow-up before enrolment",
            "A follow-up visit at an age before the patient's age at enrolment.",
        ),
        _rule(
            "dermoid_without_sinus",
            Severity.WARNING,
            "Dermoid without a dermal sinus",
            "A dermoid tumour is recorded (on a lesion or by pathology) but the patient has no "
            "dermal sinus lesion.",
        ),
        _rule(
            "surgery_without_lesion",
            Severity.ERROR,
            "Surgery without its lesion",
            "A surgery refers to a lesion number the patient has no Dysraphic lesion form for.",
        ),
        _rule(
            "follow_up_without_surgery",
            Severity.WARNING,
            "Follow-up without surgery",
            "A follow-up visit is recorded for a patient with no surgery.",
        ),
        _rule(
            "duplicate_enrolment",
            Severity.ERROR,
            "Enrolled twice",
            "The same pseudonym has more than one Enrolment form: the patient was enrolled twice.",
        ),
        _rule(
            "near_duplicate_patient",
            Severity.INFO,
            "Possible duplicate at another site",
            "A patient at another site has the same sex, year of birth and lesions (type, level "
            "and the lesion form's anatomy answers), and the same operations at ages within "
            "3 days: perhaps the same person enrolled twice. For curator review.",
        ),
    )
}

# How close ages at surgery must be for two patients to look like the same person.
NEAR_DUPLICATE_DAYS = 3
# The 3-SD rule needs enough values for a mean and SD to mean something.
OUTLIER_MIN_VALUES = 20
OUTLIER_SDS = 3.0


class QualityRulesError(Exception):
    """The custom rules file cannot be used; `problems` lists what is wrong, each located."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class RulesFile:
    """What forms/quality_rules.yaml says: the custom rules, and the numeric fields the 3-SD
    rule leaves alone (reference numbers, scores with two peaks) as (form, field) pairs."""

    custom: list[CustomRule]
    outlier_sd_skip: frozenset[tuple[str, str]]


def load_rules_file(
    fields_by_form: Mapping[str, Mapping[str, str]], path: Path | None = None
) -> RulesFile:
    """The YAML file's rules and settings, checked against the forms.

    `fields_by_form` maps a form name to its harmonised field names and their types; rules
    refer to fields by their harmonised names, so one rule covers every version of a form.
    A rule about a form that is not published yet is skipped.
    """
    path = Path(path or settings.QUALITY_RULES_FILE)
    if not path.exists():
        return RulesFile([], frozenset())
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise QualityRulesError([f"{path}: not valid YAML: {error}"]) from error
    if not isinstance(document, dict):
        raise QualityRulesError([f"{path}: the file must hold `rules:`, a list of rules"])
    problems: list[str] = []
    unknown = sorted(set(document) - {"rules", "outlier_sd_skip"})
    if unknown:
        problems.append(
            f"{path.name}: unknown key(s) {', '.join(unknown)}; the file holds "
            "rules and outlier_sd_skip"
        )
    entries = document.get("rules") or []
    if not isinstance(entries, list):
        raise QualityRulesError([f"{path}: `rules:` must be a list of rules"])
    rules: list[CustomRule] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"{path.name} rules[{index}]"
        if isinstance(entry, dict) and entry.get("code"):
            where += f" ({entry['code']})"
        rule = _custom_rule(entry, where, fields_by_form, seen, problems)
        if rule is not None:
            rules.append(rule)
    skip: set[tuple[str, str]] = set()
    for index, item in enumerate(document.get("outlier_sd_skip") or []):
        form, _, name = str(item).partition(".")
        if form in fields_by_form and name not in fields_by_form[form]:
            problems.append(
                f"{path.name} outlier_sd_skip[{index}]: {name!r} is not a field "
                f"of {form}{_hint(name, fields_by_form[form])}"
            )
        skip.add((form, name))
    if problems:
        raise QualityRulesError(problems)
    return RulesFile(rules, frozenset(skip))


_KEYS = {"code", "form", "field", "severity", "title", "when", "message"}


def _custom_rule(
    entry: Any,
    where: str,
    fields_by_form: Mapping[str, Mapping[str, str]],
    seen: set[str],
    problems: list[str],
) -> CustomRule | None:
    if not isinstance(entry, dict):
        problems.append(f"{where}: a rule is a mapping with {', '.join(sorted(_KEYS))}")
        return None
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        problems.append(
            f"{where}: unknown key(s) {', '.join(unknown)}; a rule has {', '.join(sorted(_KEYS))}"
        )
    missing = sorted(key for key in _KEYS - {"field"} if not entry.get(key))
    if missing:
        problems.append(f"{where}: {', '.join(missing)} missing")
        return None
    code = str(entry["code"])
    if not _CODE.fullmatch(code):
        problems.append(
            f"{where}: code {code!r} must be 3 to 60 lower-case letters, digits "
            "or underscores, starting with a letter"
        )
    elif code in BUILT_IN_RULES or code in seen:
        problems.append(f"{where}: code {code!r} is already taken")
    seen.add(code)
    if entry["severity"] not in Severity.values:
        problems.append(f"{where}: severity must be one of {', '.join(Severity.values)}")
    form = entry["form"]
    if form not in fields_by_form:
        return None
    fields = fields_by_form[form]
    field = entry.get("field") or ""
    if field and field not in fields:
        problems.append(f"{where}: {field!r} is not a field of {form}{_hint(field, fields)}")
    try:
        node = logic.compile_logic(str(entry["when"]))
    except logic.LogicSyntaxError as error:
        problems.append(f"{where}: `when` is not valid logic: {error}")
        return None
    for reference in logic.reference_nodes(node):
        if not isinstance(reference, logic.FieldRef):
            continue
        shown = (
            reference.field if reference.code is None else f"{reference.field}({reference.code})"
        )
        if reference.qualified:
            problems.append(
                f"{where}: [{shown}] refers to another event or instance; a rule "
                "reads the fields of one submission"
            )
        elif reference.field not in fields:
            problems.append(
                f"{where}: [{shown}] is not a field of {form}{_hint(reference.field, fields)}"
            )
        elif (reference.code is None) == (fields[reference.field] == "checkbox"):
            problems.append(
                f"{where}: [{shown}]: name a checkbox option as [field(code)], "
                "and other fields without one"
            )
    return CustomRule(
        code=code,
        severity=entry["severity"],
        title=str(entry["title"]),
        description=str(entry["message"]),
        kind="custom",
        form=form,
        field=field,
        when=str(entry["when"]),
        message=" ".join(str(entry["message"]).split()),
        node=node,
    )


def _hint(name: str, fields: Mapping[str, str]) -> str:
    close = difflib.get_close_matches(name, list(fields), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def all_rules(custom: list[CustomRule] | None = None) -> list[Rule]:
    return [*BUILT_IN_RULES.values(), *(custom or [])]


def field_use_problems(forms: Mapping[str, Harmonisation], changed: Collection[str]) -> list[str]:
    """For crfs/field_uses.py: what the rules would lose with the forms as they would be after
    publishing. A field the latest version no longer asks counts as gone: a rule on it would
    find nothing in every new submission."""
    fields = {
        form: {h.name: h.field.type for h in harmonisation.fields if not h.retired}
        for form, harmonisation in forms.items()
    }
    try:
        load_rules_file(fields)
    except QualityRulesError as error:
        return error.problems
    return []
