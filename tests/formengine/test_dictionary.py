"""REDCap data dictionaries to and from schemas (registry/formengine/dictionary.py)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.formengine.dictionary import (
    COLUMNS,
    METADATA_KEYS,
    DictionaryError,
    DictionaryProblem,
    metadata_rows,
    read_dictionary,
    write_dictionary,
)
from registry.formengine.schema import FormSchema, load_schema, schema_to_dict

HERE = Path(__file__).resolve().parent
DICTIONARIES = HERE / "dictionaries"
FORMS_DIR = HERE.parents[1] / "forms"


def read_file(name: str) -> str:
    with (DICTIONARIES / name).open(encoding="utf-8", newline="") as handle:
        return handle.read()


def registry_schemas() -> list[FormSchema]:
    return [
        load_schema(yaml.safe_load(path.read_text(encoding="utf-8")))
        for path in sorted(FORMS_DIR.glob("*/v1.yaml"))
    ]


def problems_of(text: str, **options: Any) -> list[DictionaryProblem]:
    with pytest.raises(DictionaryError) as caught:
        read_dictionary(text, **options)
    return caught.value.problems


def dictionary(*rows: dict[str, str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerow(["record_id", "intake", "", "text", "Record ID", *[""] * 13])
    for row in rows:
        cells = {"form_name": "intake", "field_type": "text", "field_label": "Question", **row}
        writer.writerow([cells.get(key, "") for key in METADATA_KEYS])
    return buffer.getvalue()


# -- a real-world-shaped dictionary ----------------------------------------------------------

CLINIC = read_file("clinic_followup.csv")


def test_clinic_dictionary_starts_with_a_byte_order_mark_and_crlf() -> None:
    assert CLINIC.startswith("\ufeff")
    assert "\r\n" in CLINIC


def test_clinic_dictionary_reads_into_one_schema_per_instrument() -> None:
    result = read_dictionary(CLINIC, repeatable_forms={"clinical_exam"})
    assert result.forms == ("demographics", "clinical_exam", "scales")
    assert result.record_id_field == "study_id"
    assert result.record_id_label == "Study ID"
    assert "study_id" not in result.schemas[0]
    assert [schema.title for schema in result.schemas] == [
        "Demographics",
        "Clinical Exam",
        "Scales",
    ]
    assert [schema.repeatable for schema in result.schemas] == [False, True, False]


def test_titles_can_be_given() -> None:
    result = read_dictionary(CLINIC, titles={"scales": "Motor scales"})
    assert result.schemas[2].title == "Motor scales"


def test_clinic_dictionary_fields_carry_what_the_cells_say() -> None:
    demographics, exam, scales = read_dictionary(CLINIC).schemas
    assert demographics.field("intro").label.startswith("Please complete this form")
    assert "\n" in demographics.field("intro").label
    assert demographics.field("handedness").type == "dropdown"  # legacy "select"
    assert demographics.field("handedness").choice_labels["A"] == "Ambidextrous, or mixed"
    assert demographics.field("diagnosis_other").type == "notes"  # legacy "textarea"
    assert demographics.field("diagnosis_other").show_if == '[diagnosis] = "oth"'  # curly quotes
    assert demographics.field("birth_year").validation == "integer"  # legacy "int"
    assert demographics.field("contact_email").identifier is True
    assert demographics.field("sex").alignment == "RH"
    assert demographics.checks[0].message.startswith("Consent must be Yes")
    assert demographics.field("diagnosis").choices[0].annotations[0].code == "HP:0002475"
    assert exam.description.endswith("grading | scoring.")
    assert [code.label for code in exam.missing_codes] == [
        "Unknown",
        "Not applicable, or not asked",
    ]
    assert exam.field("mm_regions").label == "Regions | sides affected (tick all that apply)"
    assert exam.field("mm_regions").choice_labels["1"] == "Fingers, hand (distal)"
    assert (
        exam.field("mm_onset_months").show_if == "[mm_present] = '1'\nand [mm_onset(early)] <> '1'"
    )
    assert exam.field("wt_left").matrix_group == "wt"
    assert exam.field("wt_left").renamed_from == "wt_grade"
    impact = exam.field("impact")
    assert impact.slider is not None
    assert (impact.slider.left, impact.slider.middle, impact.slider.right) == (
        "None",
        "Some",
        "Severe",
    )
    assert impact.slider.show_number is True
    effort = exam.field("effort")
    assert effort.slider is not None and (effort.slider.left, effort.slider.right) == (
        "Little",
        "Much",
    )
    assert (effort.lower, effort.upper) == (0, 10)
    assert exam.field("bmi").calc.startswith("round(")
    assert exam.field("hgvs").pattern_message.endswith('"NM_005215.4:c.1234G>A".')
    assert exam.field("hgvs").phi_screen is False
    assert exam.field("exam_age_months").limits is not None
    assert scales.field("scale_total").calc_fields == frozenset(f"item_{n}" for n in range(1, 6))


def test_clinic_dictionary_round_trips_without_loss() -> None:
    first = read_dictionary(CLINIC, repeatable_forms={"clinical_exam"})
    text = write_dictionary(
        first.schemas, first.record_id_field, record_id_label=first.record_id_label
    )
    second = read_dictionary(text, repeatable_forms={"clinical_exam"})
    assert second.data == first.data
    assert second.record_id_field == "study_id"
    assert (
        write_dictionary(
            second.schemas, second.record_id_field, record_id_label=second.record_id_label
        )
        == text
    )


def test_generated_dictionary_of_over_two_hundred_fields_round_trips_byte_for_byte() -> None:
    text = read_file("generated_large.csv")
    # Its dates are about the study, not the patient: kept (see the date tests for the default).
    result = read_dictionary(text, keep_dates=True)
    assert sum(len(schema.fields) for schema in result.schemas) >= 200
    assert write_dictionary(result.schemas, result.record_id_field) == text


@pytest.mark.parametrize("schema", registry_schemas(), ids=lambda s: s.form)
def test_registry_forms_survive_a_trip_through_a_dictionary(schema: FormSchema) -> None:
    text = write_dictionary([schema])
    again = read_dictionary(
        text,
        repeatable_forms={schema.form} if schema.repeatable else (),
        titles={schema.form: schema.title},
    ).schemas[0]
    assert schema_to_dict(again) == schema_to_dict(schema)


def test_all_registry_forms_fit_in_one_dictionary() -> None:
    schemas = registry_schemas()
    result = read_dictionary(write_dictionary(schemas))
    assert result.forms == tuple(schema.form for schema in schemas)


# -- metadata (the API's JSON form of the dictionary) -----------------------------------------


def test_metadata_rows_use_the_api_keys_and_start_with_the_record_id() -> None:
    rows = metadata_rows(registry_schemas())
    assert all(tuple(row) == METADATA_KEYS for row in rows)
    assert rows[0]["field_name"] == "record_id"
    assert rows[0]["field_type"] == "text"
    yesno = next(row for row in rows if row["field_type"] == "yesno")
    assert yesno["select_choices_or_calculations"] == ""
    radio = next(row for row in rows if row["field_name"] == "handedness")
    assert radio["select_choices_or_calculations"].startswith("right, Right-handed | left, ")
    assert radio["required_field"] == "y"


def test_annotations_travel_as_action_tags() -> None:
    rows = {row["field_name"]: row for row in metadata_rows(registry_schemas())}
    assert '@HPO="HP:0001335|Bimanual synkinesia"' in rows["mm_present"]["field_annotation"]
    assert "@LIMIT-MAX=1068" in rows["mm_age_months"]["field_annotation"]
    assert "@RENAMED-FROM" not in rows["mm_age_months"]["field_annotation"]


def test_the_record_id_cannot_clash_with_a_field() -> None:
    schemas = registry_schemas()
    with pytest.raises(DictionaryError, match="also a field"):
        write_dictionary(schemas, record_id_field=schemas[0].fields[0].name)


# -- generated schemas ---------------------------------------------------------------------

NAMES = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)
LABELS = (
    st.text(
        alphabet=st.characters(
            codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="|"
        ),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)
FREE_LABELS = (
    st.text(
        # Any text a dictionary holds: not a NUL, which a dictionary refuses (test_hostile_*).
        alphabet=st.characters(
            codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"
        ),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(bool)
)
CODES = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,5}", fullmatch=True)


@st.composite
def field_dicts(draw: st.DrawFn, name: str) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(
            [
                "text",
                "notes",
                "radio",
                "checkbox",
                "dropdown",
                "yesno",
                "truefalse",
                "slider",
                "descriptive",
                "integer",
                "number",
            ]
        )
    )
    field: dict[str, Any] = {"name": name, "label": draw(FREE_LABELS)}
    if kind in {"integer", "number"}:
        low = draw(st.integers(-1000, 1000))
        field.update(type="text", validation=kind, min=low, max=low + draw(st.integers(0, 99)))
        if draw(st.booleans()):
            field["limits"] = {"min": low}
    elif kind in {"radio", "checkbox", "dropdown"}:
        codes = draw(
            st.lists(
                CODES,
                min_size=1,
                max_size=5,
                unique_by=lambda c: (c.lower().replace("-", "_").replace(".", "_")),
            )
        )
        field.update(type=kind, choices=[{"code": c, "label": draw(LABELS)} for c in codes])
    elif kind == "slider":
        field.update(type="slider", slider={"left": draw(LABELS), "right": draw(LABELS)})
    else:
        field["type"] = kind
    if draw(st.booleans()):
        field["note"] = draw(FREE_LABELS)
    if draw(st.booleans()):
        field["section"] = draw(FREE_LABELS)
    if kind == "text" and draw(st.booleans()):
        field["phi_screen"] = False
    if kind != "descriptive" and draw(st.booleans()):
        field["required"] = True
    if kind != "descriptive" and draw(st.booleans()):
        field["annotations"] = [{"system": "HPO", "code": "HP:0001335", "label": draw(FREE_LABELS)}]
    return field


@st.composite
def schemas(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(
        st.lists(NAMES, min_size=1, max_size=8, unique=True).filter(
            lambda ns: "record_id" not in ns
        )
    )
    fields = [draw(field_dicts(name)) for name in names]
    data: dict[str, Any] = {
        "form": "generated",
        "version": 1,
        "title": "Generated",
        "repeatable": draw(st.booleans()),
        "fields": fields,
    }
    if draw(st.booleans()):
        data["description"] = draw(FREE_LABELS)
    if draw(st.booleans()):
        data["missing_codes"] = [{"code": "UNK_X", "label": draw(LABELS)}]
    data_fields = [f["name"] for f in fields if f["type"] != "descriptive"]
    if data_fields and draw(st.booleans()):
        data["checks"] = [{"field": data_fields[0], "rule": "1 = 1", "message": draw(FREE_LABELS)}]
    return data


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(schemas())
def test_any_schema_survives_a_trip_through_a_dictionary(data: dict[str, Any]) -> None:
    schema = load_schema(data)
    text = write_dictionary([schema])
    again = read_dictionary(
        text,
        repeatable_forms={"generated"} if schema.repeatable else (),
        titles={"generated": "Generated"},
    )
    assert again.data == (schema_to_dict(schema),)


# -- problems named by row and column --------------------------------------------------------

BAD_ROWS = {
    # Rows 3 (sql), 4 (@HIDDEN), 9 (email), 10 (matrix ranking), 11 (question number), 12 (free
    # text in the annotation) and 20 (piped min) import, with a note in the report.
    (5, "Branching Logic (Show field only if...)"),  # [record-dag-name]
    (6, "Branching Logic (Show field only if...)"),  # unknown field
    (7, "Variable / Field Name"),  # defined twice
    (8, "Variable / Field Name"),  # Age_Months
    (13, "Choices, Calculations, OR Slider Labels"),  # code with a space
    (14, "Text Validation Max"),  # below min
    (15, "Required Field?"),  # 'x'
    (16, "Field Type"),  # unknown type
    (17, "Branching Logic (Show field only if...)"),  # [cb(9)]
    (19, "Choices, Calculations, OR Slider Labels"),  # calc syntax error
    (21, "Text Validation Type OR Show Slider Number"),  # unknown validation
    (23, "Variable / Field Name"),  # reserved
    (25, "Form Name"),  # form rows not together
}


def test_each_bad_row_is_reported_once_by_row_and_column() -> None:
    problems = problems_of(read_file("bad_rows.csv"))
    found = [(problem.row, problem.column) for problem in problems]
    assert set(found) == BAD_ROWS
    assert len(found) == len(BAD_ROWS)


def test_problems_read_as_sentences_with_their_place() -> None:
    problems = problems_of(read_file("bad_rows.csv"))
    unknown = next(problem for problem in problems if problem.row == 16)
    assert str(unknown).startswith("row 16, column 'Field Type': unknown field type 'matrix'")
    assert "row 5, column 'Branching Logic (Show field only if...)'" in str(
        DictionaryError(problems)
    )


def test_a_wrong_header_is_named_by_column() -> None:
    text = CLINIC.replace("Field Label", "Question", 1)
    problems = problems_of(text)
    assert [(p.row, p.column) for p in problems] == [(1, "Field Label")]
    assert "'Question'" in problems[0].message


def test_an_empty_file_is_refused() -> None:
    assert problems_of("")[0].row == 1


def test_a_row_with_more_cells_than_the_header_is_refused() -> None:
    text = dictionary({"field_name": "age"}).rstrip("\r\n") + ",extra\r\n"
    problems = problems_of(text)
    assert [(p.row, p.column) for p in problems] == [(3, "")]


def test_unknown_choice_in_a_choice_annotation_is_named() -> None:
    problems = problems_of(
        dictionary(
            {
                "field_name": "grade",
                "field_type": "radio",
                "select_choices_or_calculations": "1, One | 2, Two",
                "field_annotation": '@CHOICE-HPO="3|HP:0001335|Bimanual synkinesia"',
            }
        )
    )
    assert (problems[0].row, problems[0].column) == (3, "Field Annotation")
    assert "choice '3'" in problems[0].message


def test_a_check_needs_its_message() -> None:
    problems = problems_of(
        dictionary(
            {"field_name": "ok", "field_type": "yesno", "field_annotation": "@CHECK=\"[ok] = '1'\""}
        )
    )
    assert "@CHECK-MESSAGE" in problems[0].message


def test_bad_annotation_codes_point_at_the_annotation_column() -> None:
    problems = problems_of(
        dictionary(
            {"field_name": "ok", "field_type": "yesno", "field_annotation": '@HPO="HP:12|Wrong"'}
        )
    )
    assert (problems[0].row, problems[0].column) == (3, "Field Annotation")


def test_field_names_must_be_unique_across_forms() -> None:
    problems = problems_of(
        dictionary({"field_name": "age"}, {"field_name": "age", "form_name": "follow_up"})
    )
    assert [(p.row, p.column) for p in problems] == [(4, "Variable / Field Name")]


def test_another_forms_complete_column_is_reserved() -> None:
    problems = problems_of(
        dictionary(
            {"field_name": "follow_up_complete"}, {"field_name": "age", "form_name": "follow_up"}
        )
    )
    assert [(p.row, p.column) for p in problems] == [(3, "Variable / Field Name")]


def test_blank_rows_are_skipped_and_flags_accept_y_only() -> None:
    text = dictionary({"field_name": "age", "required_field": "Y"}) + ",,,,,,,,,,,,,,,,,\r\n"
    schema = read_dictionary(text).schemas[0]
    assert schema.field("age").required is True
