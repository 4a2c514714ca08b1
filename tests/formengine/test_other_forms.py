"""Logic that reads fields of another form: checked at load, read as constants when validating."""

from __future__ import annotations

import csv
import io

import pytest

from registry.formengine.dictionary import (
    COLUMNS,
    METADATA_KEYS,
    DictionaryError,
    read_dictionary,
    write_dictionary,
)
from registry.formengine.schema import SchemaError, load_schema, load_schemas
from registry.formengine.validation import validate_submission

INTAKE = {
    "form": "intake",
    "version": 1,
    "title": "Intake",
    "fields": [
        {"name": "weight_kg", "type": "text", "label": "Weight", "validation": "integer"},
        {"name": "smoker", "type": "yesno", "label": "Smokes"},
        {
            "name": "regions",
            "type": "checkbox",
            "label": "Regions",
            "choices": [{"code": "a", "label": "A"}, {"code": "b", "label": "B"}],
        },
        {"name": "intro", "type": "descriptive", "label": "Read this"},
    ],
}


def visit(*fields: dict, **changes: object) -> dict:
    return {
        "form": "visit",
        "version": 1,
        "title": "Visit",
        "repeatable": True,
        "fields": [
            {"name": "age", "type": "text", "label": "Age", "validation": "integer"},
            *fields,
        ],
        **changes,
    }


CIGS = {
    "name": "cigs",
    "type": "text",
    "label": "Cigarettes",
    "validation": "integer",
    "show_if": "[smoker] = '1'",
}
DOSE = {"name": "dose", "type": "calc", "label": "Dose", "calc": "[weight_kg] * 2 + [age]"}


def problems(data: dict, **options: object) -> list[tuple[str, str]]:
    with pytest.raises(SchemaError) as caught:
        load_schema(data, **options)  # type: ignore[arg-type]
    return [(p.path, p.message) for p in caught.value.problems]


def test_without_the_other_forms_a_reference_is_not_a_field_of_this_form() -> None:
    assert problems(visit(CIGS)) == [("fields[1].show_if", "[smoker] is not a field of this form")]


def test_with_the_other_forms_a_reference_loads_and_is_listed() -> None:
    schema = load_schema(visit(CIGS, DOSE), others=[load_schema(INTAKE)])
    assert schema.external_fields == {"smoker", "weight_kg"}
    assert load_schema(INTAKE).external_fields == frozenset()


def test_a_field_that_exists_nowhere_is_still_refused_with_its_path() -> None:
    found = problems(visit({**CIGS, "show_if": "[smokr] = '1'"}), others=[load_schema(INTAKE)])
    assert found == [
        (
            "fields[1].show_if",
            "[smokr] is not a field of this form or of another form; did you mean [smoker]?",
        )
    ]


def test_another_forms_field_is_read_by_the_same_rules() -> None:
    intake = load_schema(INTAKE)
    found = problems(
        visit(
            {"name": "x", "type": "text", "label": "X", "show_if": "[regions] = 'a'"},
            {"name": "y", "type": "text", "label": "Y", "show_if": "[regions(c)] = '1'"},
            {"name": "z", "type": "text", "label": "Z", "show_if": "[intro] = '1'"},
        ),
        others=[intake],
    )
    assert [path for path, _ in found] == [
        "fields[1].show_if",
        "fields[2].show_if",
        "fields[3].show_if",
    ]
    assert "is a checkbox" in found[0][1] and "(a field of form intake)" in found[0][1]
    assert "'c' is not a choice code of regions" in found[1][1]
    assert "descriptive" in found[2][1]


def test_a_name_two_other_forms_share_is_refused() -> None:
    other = {**INTAKE, "form": "history", "title": "History"}
    found = problems(visit(CIGS), others=[load_schema(INTAKE), load_schema(other)])
    assert found == [
        (
            "fields[1].show_if",
            "[smoker] is a field of several other forms "
            "(history, intake), so which one it reads is unclear; rename the field "
            "in all but one of them",
        )
    ]


def test_a_stored_version_loads_without_the_other_forms() -> None:
    assert load_schema(visit(CIGS), published=True).external_fields == {"smoker"}


def test_forms_published_together_read_one_another_and_two_way_reads_are_no_circle() -> None:
    intake = {
        **INTAKE,
        "fields": [
            *INTAKE["fields"],
            {"name": "last_age", "type": "calc", "label": "Last age", "calc": "[age] + 0"},
        ],
    }
    loaded = load_schemas([intake, visit(CIGS, DOSE)])
    assert [schema.form for schema in loaded] == ["intake", "visit"]  # type: ignore[union-attr]
    broken = load_schemas([INTAKE, visit({**CIGS, "show_if": "[nowhere] = 1"})])
    assert isinstance(broken[1], SchemaError)
    assert broken[1].problems[0].path == "fields[1].show_if"


def test_the_other_forms_values_decide_branching_and_calculations() -> None:
    schema = load_schema(visit(CIGS, DOSE), others=[load_schema(INTAKE)])
    smoker = {"smoker": "1", "weight_kg": 30}
    result = validate_submission(schema, {"age": "5", "cigs": "3"}, other_forms=smoker)
    assert result.errors == {}
    assert result.data == {"age": 5, "cigs": 3, "dose": 65}  # nothing of the other form
    refused = validate_submission(
        schema, {"age": "5", "cigs": "3"}, other_forms={"smoker": "0", "weight_kg": 30}
    )
    assert "must be blank" in refused.errors["cigs"][0]
    # No value of the other form is blank: the question is not asked, the calc is blank.
    alone = validate_submission(schema, {"age": "5"})
    assert alone.hidden == {"cigs"} and alone.data == {"age": 5}
    # Only the names the form reads are taken; an unrelated key changes nothing.
    assert validate_submission(schema, {"age": "5"}, other_forms={**smoker, "age": 99}).data == {
        "age": 5,
        "dose": 65,
    }


def test_a_check_may_read_another_form() -> None:
    schema = load_schema(
        visit(
            checks=[
                {
                    "field": "age",
                    "rule": "[age] <= [weight_kg]",
                    "message": "Age is above the weight.",
                }
            ]
        ),
        others=[load_schema(INTAKE)],
    )
    assert validate_submission(schema, {"age": "50"}, other_forms={"weight_kg": 30}).errors == {
        "age": ["Age is above the weight."]
    }
    assert validate_submission(schema, {"age": "20"}, other_forms={"weight_kg": 30}).errors == {}


def dictionary(*rows: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([*row, *[""] * (len(METADATA_KEYS) - len(row))])
    return buffer.getvalue()


BRANCHING = METADATA_KEYS.index("branching_logic")
CROSS_FORM = dictionary(
    ["record_id", "intake", "", "text", "Record ID"],
    ["smoker", "intake", "", "yesno", "Smokes"],
    ["weight_kg", "intake", "", "text", "Weight", "", "", "integer"],
    ["cigs", "visit", "", "text", "Cigarettes", "", "", "integer", "", "", "", "[smoker] = '1'"],
    ["dose", "visit", "", "calc", "Dose", "[weight_kg] * 2"],
)


def test_a_dictionary_with_references_across_instruments_imports_and_round_trips() -> None:
    imported = read_dictionary(CROSS_FORM, repeatable_forms=["visit"])
    visit_schema = imported.schemas[1]
    assert visit_schema.external_fields == {"smoker", "weight_kg"}
    written = write_dictionary(imported.schemas)
    assert read_dictionary(written, repeatable_forms=["visit"]).schemas == imported.schemas
    rows = list(csv.reader(io.StringIO(written)))
    assert rows[4][BRANCHING] == "[smoker] = '1'"


def test_a_dictionary_may_read_a_published_form_it_does_not_hold() -> None:
    only_visit = dictionary(
        ["record_id", "visit", "", "text", "Record ID"],
        [
            "cigs",
            "visit",
            "",
            "text",
            "Cigarettes",
            "",
            "",
            "integer",
            "",
            "",
            "",
            "[smoker] = '1'",
        ],
    )
    with pytest.raises(DictionaryError):
        read_dictionary(only_visit)
    imported = read_dictionary(only_visit, published=[load_schema(INTAKE)])
    assert imported.schemas[0].external_fields == {"smoker"}


def test_a_dictionary_reference_to_no_field_names_row_and_column() -> None:
    text = CROSS_FORM.replace("[smoker] = '1'", "[smoking] = '1'")
    with pytest.raises(DictionaryError) as caught:
        read_dictionary(text)
    assert [(p.row, p.column, p.message) for p in caught.value.problems] == [
        (
            5,
            "Branching Logic (Show field only if...)",
            "[smoking] is not a field of this form or of another form; did you mean [smoker]?",
        )
    ]


def test_a_piped_limit_still_names_a_field_of_its_own_form() -> None:
    text = dictionary(
        ["record_id", "intake", "", "text", "Record ID"],
        ["weight_kg", "intake", "", "text", "Weight", "", "", "integer"],
        ["dose", "visit", "", "text", "Dose", "", "", "integer", "[weight_kg]"],
    )
    with pytest.raises(DictionaryError) as caught:
        read_dictionary(text)
    assert [(p.row, p.column, p.message) for p in caught.value.problems] == [
        (4, "Text Validation Min", "[weight_kg] is not a field of this form")
    ]


def test_an_if_condition_reads_another_forms_field() -> None:
    note = {
        "name": "note",
        "type": "text",
        "label": "Note",
        "annotation": "@IF([smoker] = '1', @CHARLIMIT=3, '')",
    }
    assert problems(visit(note)) == [
        ("fields[1].annotation", "@IF: [smoker] is not a field of this form")
    ]
    schema = load_schema(visit(note), others=[load_schema(INTAKE)])
    assert schema.external_fields == {"smoker"}
    answers = {"age": "30", "note": "longer"}
    assert "note" in validate_submission(schema, answers, other_forms={"smoker": "1"}).errors
    assert validate_submission(schema, answers, other_forms={"smoker": "0"}).errors == {}
