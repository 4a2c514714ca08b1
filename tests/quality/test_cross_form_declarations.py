"""The rules across forms read the forms, fields and choice codes forms/quality_rules.yaml
names: the shipped file fits the shipped forms, a declaration naming what the forms lack is
reported, a rule whose forms are not published is skipped, and the rules find the same on a
copy of the forms under other names once the file names them."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings as django_settings

from registry.crfs.field_uses import harmonisations_after
from registry.crfs.services import do_sync_forms, read_form_files
from registry.patients.models import Patient
from registry.people.models import Site
from registry.quality.checks import PATIENT_CHECKS
from registry.quality.models import IssueStatus, QualityIssue
from registry.quality.rules import (
    CROSS_FORM_READS,
    NEAR_DUPLICATE,
    QualityRulesError,
    field_use_problems,
    load_rules_file,
    rules_file_problems,
)
from registry.quality.services import do_run_quality_checks, rules_file
from registry.statistics.catalogue import form_catalogue
from tests.quality.builders import ENROLMENT, FOLLOW_UP, LESION, SURGERY, patient, stored

pytestmark = pytest.mark.django_db

FORMS = Path(django_settings.BASE_DIR) / "forms"
RULES = FORMS / "quality_rules.yaml"


def declarations() -> dict[str, Any]:
    return yaml.safe_load(RULES.read_text())


def write_rules(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "quality_rules.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def harmonised() -> dict:
    return {name: info.harmonisation for name, info in form_catalogue().items()}


def test_the_shipped_declarations_fit_the_shipped_forms(forms):
    loaded = rules_file(form_catalogue())
    assert set(loaded.cross_form) == set(CROSS_FORM_READS) == {*PATIENT_CHECKS, NEAR_DUPLICATE}
    assert field_use_problems(harmonisations_after([]), set()) == []
    assert rules_file_problems() == []


def test_a_cross_form_rule_takes_its_severity_title_and_description_from_the_file(
    tmp_path, settings, forms, site_a
):
    document = declarations()
    document["cross_form"]["duplicate_enrolment"].update(
        severity="warning", title="Two enrolments", description="Enrolled  twice."
    )
    settings.QUALITY_RULES_FILE = write_rules(tmp_path, document)
    (rule,) = [
        r for r in rules_file(form_catalogue()).cross_form.values() if r.title == "Two enrolments"
    ]
    assert (rule.code, rule.severity, rule.description) == (
        "duplicate_enrolment",
        "warning",
        "Enrolled twice.",
    )
    who = patient(site_a)
    stored(who, "enrollment", dict(ENROLMENT))
    stored(who, "enrollment", dict(ENROLMENT), instance=2)
    do_run_quality_checks(None, full=True)
    (issue,) = QualityIssue.objects.filter(rule="duplicate_enrolment")
    assert issue.severity == "warning"


def test_a_declaration_naming_a_field_the_form_lacks_is_reported(tmp_path, forms):
    document = declarations()
    document["cross_form"]["surgery_without_lesion"]["lesion_number"] = "surgery.lesion_instanse"
    with pytest.raises(QualityRulesError) as refused:
        load_rules_file(harmonised(), write_rules(tmp_path, document))
    assert refused.value.problems == [
        "quality_rules.yaml cross_form.surgery_without_lesion: lesion_number reads "
        "surgery.lesion_instanse, which is not a field of surgery v1 (did you mean "
        "lesion_instance?)"
    ]


def test_a_declared_choice_code_the_field_does_not_offer_is_reported(tmp_path, forms):
    document = declarations()
    document["cross_form"]["dermoid_without_sinus"]["dermal_sinus_codes"].append("dermal_pit")
    with pytest.raises(QualityRulesError) as refused:
        load_rules_file(harmonised(), write_rules(tmp_path, document))
    (problem,) = refused.value.problems
    assert problem.startswith(
        "quality_rules.yaml cross_form.dermoid_without_sinus: dermal_sinus_codes names "
        "'dermal_pit', which is not a choice of dysraphic_lesion.lesion_type in "
        "dysraphic_lesion v1 (its choices: "
    )


def test_a_field_of_the_wrong_type_is_named(tmp_path, forms):
    document = declarations()
    document["cross_form"]["follow_up_before_enrolment"]["enrolment_age_months"] = (
        "enrollment.handedness"
    )
    with pytest.raises(QualityRulesError) as refused:
        load_rules_file(harmonised(), write_rules(tmp_path, document))
    assert refused.value.problems == [
        "quality_rules.yaml cross_form.follow_up_before_enrolment: enrolment_age_months reads "
        "enrollment.handedness, which is a radio field; the rule needs a number there"
    ]


def test_the_start_up_check_names_what_is_wrong_with_the_file(tmp_path, settings):
    document = declarations()
    document["cross_form"]["surgery_before_birth"] = {"severity": "error"}
    del document["cross_form"]["follow_up_without_surgery"]["surgery_form"]
    document["cross_form"]["near_duplicate_patient"]["surgery_age_days"] = "follow_up.fu_age"
    settings.QUALITY_RULES_FILE = write_rules(tmp_path, document)
    assert [error.msg for error in rules_file_problems()] == [
        "quality_rules.yaml cross_form.follow_up_without_surgery: surgery_form missing",
        "quality_rules.yaml cross_form.near_duplicate_patient: surgery_age_days, operations "
        "must be fields of one form, not follow_up and surgery",
        "quality_rules.yaml cross_form.surgery_before_birth: no built-in rule across forms has "
        f"this code; they are {', '.join(CROSS_FORM_READS)}",
    ]


def test_a_rule_whose_forms_are_not_published_is_skipped(tmp_path, site_a):
    assert load_rules_file({}, RULES).cross_form == {}
    # Only the enrolment and follow-up forms published: the rules reading them alone run.
    root = tmp_path / "forms"
    for form in ("enrollment", "follow_up"):
        (root / form).mkdir(parents=True)
        for path in (FORMS / form).glob("v*.yaml"):
            (root / form / path.name).write_text(path.read_text())
    do_sync_forms(None, read_form_files(root))
    assert set(rules_file(form_catalogue()).cross_form) == {
        "follow_up_before_enrolment",
        "duplicate_enrolment",
    }
    who = patient(site_a)
    stored(who, "enrollment", dict(ENROLMENT))
    stored(who, "follow_up", {**FOLLOW_UP, "fu_age_months": 20, "months_since_surgery": 19.7})
    do_run_quality_checks(None, full=True)
    rules = set(QualityIssue.objects.values_list("rule", flat=True))
    assert "follow_up_before_enrolment" in rules
    assert not rules & {"follow_up_without_surgery", "near_duplicate_patient"}


# --- The same rules on the forms under other names ---------------------------------------

CROSS_FORMS = ("enrollment", "dysraphic_lesion", "surgery", "follow_up")
RENAMED_CODES = {
    "dermoid": "dermoid_cyst",
    "occ_dermal_sinus": "sinus_occipital",
    "cranial_dermal_sinus": "sinus_cranial",
    "spinal_dermal_sinus": "sinus_spinal",
}
_REFERENCE = re.compile(r"\[([a-z][a-z0-9_]*)")


def renamed_form(name: str) -> str:
    return f"rn_{name}"


def renamed_copies(root: Path) -> dict[str, str]:
    """The four forms the rules read, copied under other names, every field renamed (field
    names are unique across the registry's forms) and the dermoid and dermal-sinus codes
    renamed; returns the field names' map."""
    schemas = {
        form: [yaml.safe_load(path.read_text()) for path in sorted((FORMS / form).glob("v*.yaml"))]
        for form in CROSS_FORMS
    }
    fields = {
        f["name"]: f"rn_{f['name']}"
        for versions in schemas.values()
        for schema in versions
        for f in schema["fields"]
    }

    def renamed(value: Any) -> Any:
        if isinstance(value, str):
            value = _REFERENCE.sub(lambda m: "[" + fields.get(m[1], m[1]), value)
            for old, new in RENAMED_CODES.items():
                value = value.replace(f"'{old}'", f"'{new}'")
            return value
        if isinstance(value, list):
            return [renamed(item) for item in value]
        if isinstance(value, dict):
            return {key: renamed(item) for key, item in value.items()}
        return value

    for form, versions in schemas.items():
        (root / renamed_form(form)).mkdir(parents=True)
        for schema in versions:
            schema["form"] = renamed_form(form)
            for f in schema["fields"]:
                f["name"] = fields[f["name"]]
                if "renamed_from" in f:
                    f["renamed_from"] = fields[f["renamed_from"]]
                if f["name"] in ("rn_lesion_type", "rn_tumour_type", "rn_pathology_type"):
                    for choice in f.get("choices") or []:
                        choice["code"] = RENAMED_CODES.get(choice["code"], choice["code"])
            for check in schema.get("checks") or []:
                if "field" in check:
                    check["field"] = fields[check["field"]]
            path = root / renamed_form(form) / f"v{schema['version']}.yaml"
            path.write_text(yaml.safe_dump(renamed(schema), sort_keys=False))
    return fields


def renamed_rules(fields: dict[str, str]) -> dict[str, Any]:
    """forms/quality_rules.yaml's cross-form rules, naming the renamed copies."""
    document = declarations()
    for code, entry in document["cross_form"].items():
        for key, spec in CROSS_FORM_READS[code].items():
            if spec.wants == "form":
                entry[key] = renamed_form(entry[key])
            elif spec.wants == "codes":
                entry[key] = [RENAMED_CODES.get(item, item) for item in entry[key]]
            else:
                uses = entry[key] if isinstance(entry[key], list) else [entry[key]]
                named = [
                    f"{renamed_form(use.split('.')[0])}.{fields[use.split('.')[1]]}" for use in uses
                ]
                entry[key] = named if isinstance(entry[key], list) else named[0]
    return {"cross_form": document["cross_form"]}


def arrange(site: Site, twin_site: Site, form: Callable[[str], str], field: Callable[[str], str]):
    """Patients who trip every rule across forms, on the forms `form` names (the registry's, or
    their copies), with their fields as `field` names them; returns patient -> label."""

    def on(who: Patient, name: str, data: dict[str, Any], **options: Any) -> None:
        values = {
            field(key): RENAMED_CODES.get(value, value)
            if form(name) != name and isinstance(value, str)
            else value
            for key, value in data.items()
        }
        stored(who, form(name), values, **options)

    def whole(who: Patient) -> Patient:
        on(who, "enrollment", ENROLMENT)
        on(who, "dysraphic_lesion", LESION)
        on(who, "surgery", SURGERY)
        on(who, "follow_up", FOLLOW_UP)
        return who

    labels = {}
    early = patient(site)
    on(early, "enrollment", ENROLMENT)
    on(early, "dysraphic_lesion", LESION)
    on(early, "surgery", {**SURGERY, "lesion_instance": 2})
    on(
        early,
        "follow_up",
        {
            **FOLLOW_UP,
            "fu_age_months": 2,
            "age_at_last_surgery_days": 400,
            "months_since_surgery": -11.1,
        },
    )
    labels[early.pk] = "early follow-up"
    unoperated = patient(site)
    on(unoperated, "enrollment", ENROLMENT)
    on(unoperated, "follow_up", FOLLOW_UP)
    labels[unoperated.pk] = "follow-up without surgery"
    unlesioned = patient(site)
    on(unlesioned, "surgery", SURGERY)
    labels[unlesioned.pk] = "surgery without lesion"
    dermoid = whole(patient(site))
    on(
        dermoid,
        "dysraphic_lesion",
        {**LESION, "tumour_present": "1", "tumour_type": "dermoid"},
        instance=2,
    )
    labels[dermoid.pk] = "dermoid"
    twice = whole(patient(site))
    on(twice, "enrollment", ENROLMENT, instance=2)
    labels[twice.pk] = "enrolled twice"
    labels[whole(patient(site, year_of_birth=2011)).pk] = "twin here"
    labels[whole(patient(twin_site, year_of_birth=2011)).pk] = "twin there"
    return labels


def cross_form_findings(labels: dict[int, str]) -> list[tuple]:
    """The open findings of the rules across forms on the `labels` patients, fields by their
    names in the registry's forms."""
    return sorted(
        (
            issue.rule,
            labels[issue.patient_id],
            issue.submission.instance if issue.submission else None,
            issue.field.removeprefix("rn_"),
            issue.severity,
            issue.message,
        )
        for issue in QualityIssue.objects.filter(
            rule__in=CROSS_FORM_READS, status=IssueStatus.OPEN, patient_id__in=labels
        ).select_related("submission")
    )


def test_the_rules_find_the_same_on_the_forms_under_other_names(
    tmp_path, settings, forms, site_a, site_b
):
    fields = renamed_copies(tmp_path / "forms")
    do_sync_forms(None, read_form_files(tmp_path / "forms"))
    registry = arrange(site_a, site_b, lambda name: name, lambda name: name)
    copies = arrange(site_a, site_b, renamed_form, lambda name: fields[name])

    settings.QUALITY_RULES_FILE = write_rules(tmp_path, renamed_rules(fields))
    do_run_quality_checks(None, full=True)
    on_copies = cross_form_findings(copies)
    # Declared on the copies, the rules read the copies alone.
    assert cross_form_findings(registry) == []

    settings.QUALITY_RULES_FILE = RULES
    do_run_quality_checks(None, full=True)
    on_registry = cross_form_findings(registry)
    assert cross_form_findings(copies) == []

    assert {finding[0] for finding in on_registry} == set(CROSS_FORM_READS)
    assert on_copies == on_registry


def test_the_quality_code_names_no_form_field_or_declared_code_of_the_forms():
    names = set()
    for path in FORMS.glob("*/v*.yaml"):
        schema = yaml.safe_load(path.read_text())
        names |= {schema["form"], *(f["name"] for f in schema["fields"])}
    for entry in declarations()["cross_form"].values():
        names |= {item for value in entry.values() if isinstance(value, list) for item in value}
    source = Path(django_settings.BASE_DIR) / "registry" / "quality"
    named = {
        (path.name, node.value)
        for path in source.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and node.value in names
    }
    assert named == set()
