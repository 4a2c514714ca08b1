"""The data-quality rules and what they read.

The rules of one submission (`BUILT_IN_RULES`) read whatever its form version declares; their
code, severity, title and description are here, what they look for is in checks.py. The rules
that look across forms read named forms and fields: forms/quality_rules.yaml
(settings.QUALITY_RULES_FILE) names them under `cross_form:`, with each rule's severity, title
and description, and `CROSS_FORM_READS` below says what each rule expects under each key (what
it does with them is in checks.py). The same file holds the custom rules, written in the form
engine's logic language, and the fields the 3-SD rule leaves alone. `load_rules_file` reads and
checks it: before every run, and against the forms as they would be before a version is
published (crfs/field_uses.py), so that a version renaming or dropping a field a rule reads is
refused with the rule and the field named. `all_rules` gives every rule.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core import checks

from registry.formengine import logic
from registry.formengine.harmonise import Harmonisation, harmonised_field, rename_hint
from registry.formengine.schema import Field
from registry.statistics.catalogue import is_categorical, is_numeric

from .models import Severity

_CODE = re.compile(r"[a-z][a-z0-9_]{2,59}")
_FORM = re.compile(r"[a-z][a-z0-9_]*")
_FIELD = re.compile(r"(?P<form>[a-z][a-z0-9_]*)\.(?P<field>[a-z][a-z0-9_]*)")


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    title: str
    description: str
    kind: str = "built-in"  # built-in or custom

    @property
    def severity_label(self) -> str:
        """The severity as the pages name it ("For review"), not its code ("info")."""
        return str(dict(Severity.choices).get(self.severity, self.severity))


@dataclass(frozen=True)
class CustomRule(Rule):
    """A rule in the logic language: `when` is true for a submission that has the problem."""

    form: str = ""
    field: str = ""
    when: str = ""
    message: str = ""
    node: Any = None


@dataclass(frozen=True)
class FieldUse:
    form: str
    field: str

    def __str__(self) -> str:
        return f"{self.form}.{self.field}"


@dataclass(frozen=True)
class CrossFormRule(Rule):
    """A built-in rule across forms, with the forms, fields and choice codes its declaration
    names (harmonised names), by the keys of `CROSS_FORM_READS`."""

    forms: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[str, tuple[FieldUse, ...]] = field(default_factory=dict)
    codes: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def field_use(self, key: str) -> FieldUse:
        return self.fields[key][0]

    @property
    def forms_read(self) -> set[str]:
        return {*self.forms.values(), *(u.form for uses in self.fields.values() for u in uses)}


@dataclass(frozen=True)
class Reads:
    """What a cross-form rule expects under one key of its declaration."""

    wants: str  # form, number, choice, checkbox, or codes (choice codes of `codes_of`)
    many: bool = False
    group: str = ""  # keys of one group name fields of one form (read from one submission)
    codes_of: tuple[str, ...] = ()


# The built-in rules across forms and the keys of their declarations (their severity, title,
# description and fields are in forms/quality_rules.yaml; what they look for in checks.py).
CROSS_FORM_READS: dict[str, dict[str, Reads]] = {
    "surgery_after_follow_up": {
        "follow_up_age_months": Reads("number", group="visit"),
        "last_surgery_age_days": Reads("number", group="visit"),
        "surgery_age_days": Reads("number"),
    },
    "follow_up_before_enrolment": {
        "enrolment_age_months": Reads("number"),
        "follow_up_age_months": Reads("number"),
    },
    "dermoid_without_sinus": {
        "kind_of_lesion": Reads("choice"),
        "dermal_sinus_codes": Reads("codes", codes_of=("kind_of_lesion",)),
        "lesion_tumour": Reads("choice"),
        "pathology": Reads("choice"),
        "dermoid_codes": Reads("codes", codes_of=("lesion_tumour", "pathology")),
    },
    "surgery_without_lesion": {
        "lesion_form": Reads("form"),
        "lesion_number": Reads("number"),
    },
    "follow_up_without_surgery": {
        "follow_up_form": Reads("form"),
        "surgery_form": Reads("form"),
    },
    "duplicate_enrolment": {
        "enrolment_form": Reads("form"),
    },
    "near_duplicate_patient": {
        "kind_of_lesion": Reads("choice", group="lesion"),
        "level_of_lesion": Reads("choice", group="lesion"),
        "lesion_profile": Reads("choice", many=True, group="lesion"),
        "surgery_age_days": Reads("number", group="operation"),
        "operations": Reads("checkbox", group="operation"),
    },
}
# The rule that compares patients with each other rather than one patient's forms.
NEAR_DUPLICATE = "near_duplicate_patient"
_RULE_KEYS = ("severity", "title", "description")
_WANTED = {
    "number": ("a number", is_numeric),
    "choice": ("a choice field", is_categorical),
    "checkbox": ("a checkbox field", lambda f: f.type == "checkbox"),
}


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
    )
}

# How close ages at surgery must be for two patients to look like the same person.
NEAR_DUPLICATE_DAYS = 3
# The 3-SD rule needs enough values for a mean and SD to mean something.
OUTLIER_MIN_VALUES = 20
OUTLIER_SDS = 3.0


class QualityRulesError(Exception):
    """forms/quality_rules.yaml cannot be used; `problems` lists what is wrong, each located."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class RulesFile:
    """What forms/quality_rules.yaml says: the cross-form rules whose forms are published (by
    code), the custom rules, and the numeric fields the 3-SD rule leaves alone (reference
    numbers, scores with two peaks) as (form, field) pairs."""

    custom: list[CustomRule]
    outlier_sd_skip: frozenset[tuple[str, str]]
    cross_form: dict[str, CrossFormRule] = field(default_factory=dict)


def load_rules_file(
    forms: Mapping[str, Harmonisation] | None,
    path: Path | None = None,
    *,
    asked_only: bool = False,
) -> RulesFile:
    """The YAML file's rules and settings, checked against the forms (each form's versions
    lined up); with `forms` None, the file's shape alone is checked and every rule across forms
    is given.

    Rules refer to fields by their harmonised names, so one rule covers every version of a
    form. A rule about a form that is not published yet is skipped. With `asked_only`, a field
    the latest version no longer asks counts as gone (as when a version is published: a rule
    on it would find nothing in every new submission).
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
    unknown = sorted(set(document) - {"cross_form", "rules", "outlier_sd_skip"})
    if unknown:
        problems.append(
            f"{path.name}: unknown key(s) {', '.join(unknown)}; the file holds "
            "cross_form, rules and outlier_sd_skip"
        )
    cross_form = _cross_form_rules(document.get("cross_form") or {}, path.name, forms, problems)
    fields_by_form = {
        form: {h.name: h.field.type for h in harmonisation.fields if not (asked_only and h.retired)}
        for form, harmonisation in (forms or {}).items()
    }
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
        # A field named twice in one rule is one problem.
        raise QualityRulesError(list(dict.fromkeys(problems)))
    return RulesFile(rules, frozenset(skip), cross_form)


def _cross_form_rules(
    section: Any, file: str, forms: Mapping[str, Harmonisation] | None, problems: list[str]
) -> dict[str, CrossFormRule]:
    if not isinstance(section, dict):
        problems.append(f"{file}: `cross_form:` maps the codes of built-in rules to what they read")
        return {}
    rules: dict[str, CrossFormRule] = {}
    for code, entry in section.items():
        where = f"{file} cross_form.{code}"
        rule = _cross_form_rule(str(code), entry, where, problems)
        if rule is None:
            continue
        if forms is None:
            rules[rule.code] = rule
            continue
        if not rule.forms_read <= set(forms):
            continue  # a form it reads is not published yet
        found = _cross_form_problems(rule, where, forms)
        problems.extend(found)
        if not found:
            rules[rule.code] = rule
    return rules


def _cross_form_rule(
    code: str, entry: Any, where: str, problems: list[str]
) -> CrossFormRule | None:
    reads = _rule_keys_problems(code, entry, where, problems)
    if reads is None:
        return None
    forms: dict[str, str] = {}
    fields: dict[str, tuple[FieldUse, ...]] = {}
    codes: dict[str, frozenset[str]] = {}
    for key, spec in reads.items():
        value = entry[key]
        if spec.wants == "form":
            form = _read_form(key, value, where, problems)
            if form is None:
                return None
            forms[key] = form
        elif spec.wants == "codes":
            choice_codes = _read_codes(key, value, where, problems)
            if choice_codes is None:
                return None
            codes[key] = choice_codes
        else:
            uses = _read_field_uses(key, spec, value, where, problems)
            if uses is None:
                return None
            fields[key] = uses
    if _group_problem(reads, fields, where, problems):
        return None
    return CrossFormRule(
        code=code,
        severity=str(entry["severity"]),
        title=str(entry["title"]),
        description=" ".join(str(entry["description"]).split()),
        forms=forms,
        fields=fields,
        codes=codes,
    )


def _rule_keys_problems(
    code: str, entry: Any, where: str, problems: list[str]
) -> dict[str, Reads] | None:
    """What the rule `code` reads, once its entry has the keys it needs (else None)."""
    reads = CROSS_FORM_READS.get(code)
    if reads is None:
        problems.append(
            f"{where}: no built-in rule across forms has this code; they are "
            f"{', '.join(CROSS_FORM_READS)}"
        )
        return None
    if not isinstance(entry, dict):
        problems.append(f"{where}: a rule is a mapping with {', '.join([*_RULE_KEYS, *reads])}")
        return None
    given = set(entry)
    unknown = sorted(given - {*_RULE_KEYS, *reads})
    absent = [key for key in (*_RULE_KEYS, *reads) if key not in given or entry[key] in (None, "")]
    if unknown:
        problems.append(
            f"{where}: unknown key(s) {', '.join(unknown)}; the rule reads {', '.join(reads)}"
        )
    if absent:
        problems.append(f"{where}: {', '.join(absent)} missing")
        return None
    if entry["severity"] not in Severity.values:
        problems.append(f"{where}: severity must be one of {', '.join(Severity.values)}")
    return reads


def _read_form(key: str, value: Any, where: str, problems: list[str]) -> str | None:
    if not isinstance(value, str) or not _FORM.fullmatch(value):
        problems.append(f"{where}: {key} is the name of a form")
        return None
    return value


def _read_codes(key: str, value: Any, where: str, problems: list[str]) -> frozenset[str] | None:
    items = value if isinstance(value, list) else None
    if not items or not all(isinstance(item, str) for item in items):
        problems.append(f"{where}: {key} is a list of choice codes")
        return None
    return frozenset(items)


def _read_field_uses(
    key: str, spec: Reads, value: Any, where: str, problems: list[str]
) -> tuple[FieldUse, ...] | None:
    items = value if spec.many and isinstance(value, list) else [value]
    if not items or (isinstance(value, list) and not spec.many):
        problems.append(
            f"{where}: {key} is a list of form.field"
            if spec.many
            else f"{where}: {key} is one form.field"
        )
        return None
    uses = []
    for item in items:
        match = _FIELD.fullmatch(str(item))
        if match is None:
            problems.append(f"{where}: {key} {item!r} must name a field as form.field")
            return None
        uses.append(FieldUse(match["form"], match["field"]))
    return tuple(uses)


def _group_problem(
    reads: Mapping[str, Reads],
    fields: Mapping[str, tuple[FieldUse, ...]],
    where: str,
    problems: list[str],
) -> bool:
    """Whether keys that must name fields of one form name fields of several (reported)."""
    groups: dict[str, set[str]] = {}
    for key, spec in reads.items():
        if spec.group:
            groups.setdefault(spec.group, set()).update(u.form for u in fields[key])
    for group, group_forms in groups.items():
        if len(group_forms) > 1:
            together = [key for key, spec in reads.items() if spec.group == group]
            problems.append(
                f"{where}: {', '.join(together)} must be fields of one form, not "
                f"{' and '.join(sorted(group_forms))}"
            )
            return True
    return False


def _cross_form_problems(
    rule: CrossFormRule, where: str, forms: Mapping[str, Harmonisation]
) -> list[str]:
    """What the forms lack of what `rule` reads: a field gone, renamed or of another type, a
    choice code its field no longer offers."""
    reads = CROSS_FORM_READS[rule.code]
    problems = []
    found: dict[FieldUse, Field] = {}
    for key, uses in rule.fields.items():
        description, fits = _WANTED[reads[key].wants]
        for use in uses:
            harmonisation = forms[use.form]
            harmonised = harmonised_field(harmonisation, use.field)
            latest = max(harmonisation.versions)
            if harmonised is None:
                problems.append(
                    f"{where}: {key} reads {use}, which is not a field of "
                    f"{use.form} v{latest}{rename_hint(harmonisation, use.field)}"
                )
            elif harmonised.retired:
                problems.append(
                    f"{where}: {key} reads {use}, which {use.form} v{latest} no longer has; "
                    "name a field the form still asks"
                )
            elif not fits(harmonised.field):
                problems.append(
                    f"{where}: {key} reads {use}, which is a {harmonised.field.type} field; "
                    f"the rule needs {description} there"
                )
            else:
                found[use] = harmonised.field
    for key, codes in rule.codes.items():
        for of in reads[key].codes_of:
            for use in rule.fields[of]:
                if use not in found:
                    continue
                offered = found[use].choice_codes
                for code in sorted(codes - set(offered)):
                    problems.append(
                        f"{where}: {key} names {code!r}, which is not a choice of {use} in "
                        f"{use.form} v{max(forms[use.form].versions)} (its choices: "
                        f"{', '.join(offered)})"
                    )
    return problems


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
    elif code in BUILT_IN_RULES or code in CROSS_FORM_READS or code in seen:
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


def all_rules(rules: RulesFile | None = None) -> list[Rule]:
    """The rules of one submission, then those across forms and the custom ones of `rules`."""
    if rules is None:
        return list(BUILT_IN_RULES.values())
    return [*BUILT_IN_RULES.values(), *rules.cross_form.values(), *rules.custom]


def rules_file_problems(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """At start-up (`manage.py check`, every command that runs the checks): the file is well
    formed. Whether its fields exist is checked against the forms when a version is published
    and before each run, which need the database."""
    try:
        load_rules_file(None)
    except QualityRulesError as error:
        return [checks.Error(problem, id="quality.E001") for problem in error.problems]
    return []


def field_use_problems(forms: Mapping[str, Harmonisation], changed: Collection[str]) -> list[str]:
    """For crfs/field_uses.py: what the rules would lose with the forms as they would be after
    publishing."""
    try:
        load_rules_file(forms, asked_only=True)
    except QualityRulesError as error:
        return error.problems
    return []
