"""Real REDCap dictionaries import unedited, with a report of what the registry changed.

The files under dictionaries/public/ are the public, synthetic test dictionaries of two REDCap
clients, committed unedited: REDCapR's inst/test-data/projects/*/dictionary.csv (OuhscBbmc/REDCapR)
and redcapAPI's tests/testthat/testdata/offlineConnectionFiles/TestRedcapAPI_DataDictionary.csv
(vubiostat/redcapAPI).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from registry.formengine.actiontags import parse_action_tags
from registry.formengine.dictionary import (
    COLUMNS,
    METADATA_KEYS,
    DictionaryError,
    DictionaryImport,
    metadata_rows,
    read_dictionary,
    read_metadata,
    write_dictionary,
)
from registry.formengine.schema import load_schema, schema_to_dict
from registry.formengine.validation import validate_submission
from tests.linear import assert_linear

PUBLIC = Path(__file__).resolve().parent / "dictionaries" / "public"
VALIDATION = "Text Validation Type OR Show Slider Number"
IDENTIFIER = "Identifier?"


def public(name: str) -> bytes:
    return (PUBLIC / name).read_bytes()


def dictionary(*rows: dict[str, str], first_form: str = "intake") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerow(["record_id", first_form, "", "text", "Record ID", *[""] * 13])
    for row in rows:
        cells = {"form_name": "intake", "field_type": "text", "field_label": "Question", **row}
        writer.writerow([cells.get(key, "") for key in METADATA_KEYS])
    return buffer.getvalue()


def report(result: DictionaryImport) -> set[tuple[int, str, str]]:
    return {(note.row, note.column, note.field) for note in result.notes}


def problems_of(text: str | bytes, **options: object) -> list[tuple[int, str, str]]:
    with pytest.raises(DictionaryError) as caught:
        read_dictionary(text, **options)  # type: ignore[arg-type]
    return [(p.row, p.column, p.message) for p in caught.value.problems]


# -- the public test dictionaries --------------------------------------------------------------

VALIDATION_TYPES_NOT_COLLECTED = {
    "f_signature": (10, VALIDATION),
    "f_sql": (12, "Field Type"),
    "v_date_dmy": (17, VALIDATION),
    "v_date_mdy": (18, VALIDATION),
    "v_date_ymd": (19, VALIDATION),
    "v_datetime_dmy": (20, VALIDATION),
    "v_datetime_mdy": (21, VALIDATION),
    "v_datetime_seconds_dmy": (22, VALIDATION),
    "v_datetime_seconds_mdy": (23, VALIDATION),
    "v_datetime_seconds_ymd": (24, VALIDATION),
    "v_datetime_ymd": (25, VALIDATION),
    "v_email": (26, VALIDATION),
    "v_mrn_10d": (28, VALIDATION),
    "v_mrn_generic": (29, VALIDATION),
    "v_phone": (40, VALIDATION),
    "v_phone_australia": (41, VALIDATION),
    "v_postalcode_australia": (42, VALIDATION),
    "v_postalcode_canada": (43, VALIDATION),
    "v_postalcode_french": (44, VALIDATION),
    "v_postalcode_germany": (45, VALIDATION),
    "v_ssn": (46, VALIDATION),
    "v_vmrn": (50, VALIDATION),
    "v_zipcode": (51, VALIDATION),
}


def test_redcapr_validation_types_imports_with_every_identifier_and_date_reported() -> None:
    result = read_dictionary(public("redcapr_validation_types_1.csv"))
    assert result.forms == ("form_1",)
    assert len(result.schemas[0].fields) == 49
    assert report(result) == {
        (row, column, name) for name, (row, column) in VALIDATION_TYPES_NOT_COLLECTED.items()
    }
    assert set(result.not_collected) == set(VALIDATION_TYPES_NOT_COLLECTED)
    schema = result.schemas[0]
    assert schema.field("f_sql").type == "text" and not schema.field("f_sql").stores_data
    assert schema.field("v_time_mm_ss").stores_data  # a time of day is not a calendar date
    assert schema.field("f_slider").lower == -1 and schema.field("f_slider").upper == 101
    notes = {note.field: note.message for note in result.notes}
    assert "sql field" in notes["f_sql"] and "not collected" in notes["f_sql"]
    assert "calendar date" in notes["v_date_ymd"]
    assert "'ssn' collects a direct identifier" in notes["v_ssn"]
    assert "signature" in notes["f_signature"]


def test_redcapapi_test_dictionary_imports_with_its_record_id_only_instrument() -> None:
    result = read_dictionary(public("redcapapi_test_data_dictionary.csv"))
    assert result.forms == (
        "randomization",
        "text_fields",
        "dates_and_times",
        "numbers",
        "slider_fields",
        "multiple_choice",
        "files_notes_descriptions",
        "calculated_fields",
        "branching_logic",
        "repeating_instrument",
    )
    assert result.record_id_form == "record_id"
    assert (2, "Form Name", "record_id") in report(result)
    assert set(result.not_collected) == {
        "email_test",
        "phone_test",
        "zipcode_test",
        "date_dmy_test",
        "date_mdy_test",
        "date_ymd_test",
        "datetime_dmy_hm_test",
        "datetime_mdy_hm_test",
        "datetime_ymd_hm_test",
        "datetime_dmy_hms_test",
        "datetime_mdy_hms_test",
        "datetime_ymd_hms_test",
        "signature_test",
        "prereq_date",
        "one_prereq_checkbox",
        "repeat_datetime",
    }
    assert len(result.notes) == 17
    # Branching on a date that is not collected still reads: the date is always blank.
    branching = result.schemas[8]
    shown = validate_submission(branching, {"prereq_yesno": "1"})
    assert "two_prereq_or" not in shown.hidden


@pytest.mark.parametrize(
    "name, forms, not_collected",
    [
        ("redcapr_checkboxes_1.csv", ("form_2",), set()),
        (
            "redcapr_clinical_trial_1.csv",
            ("demographics",),
            {"name_last", "name_first", "address", "phone", "dob", "email"},
        ),
        (
            "redcapr_repeating_instruments.csv",
            ("demographics", "bp"),
            {"date_enrolled", "first_name", "dob", "date_bp"},
        ),
        ("redcapr_potentially_problematic_dictionary.csv", ("form_1",), set()),
    ],
)
def test_the_other_public_dictionaries_import_unedited(
    name: str, forms: tuple[str, ...], not_collected: set[str]
) -> None:
    result = read_dictionary(public(name))
    assert result.forms == forms
    assert set(result.not_collected) == not_collected
    assert {note.field for note in result.notes} - {"record_id"} == not_collected


def test_a_free_text_field_named_like_an_identifier_is_not_collected() -> None:
    result = read_dictionary(public("redcapr_clinical_trial_1.csv"))
    email = next(note for note in result.notes if note.field == "email")
    assert (email.row, email.column) == (13, "Variable / Field Name")
    assert "an e-mail address" in email.message
    # A field merely containing a word is not caught: only names that say what they hold.
    text = dictionary(
        {"field_name": "drug_name"},
        {
            "field_name": "hospital_city_count",
            "text_validation_type_or_show_slider_number": "integer",
        },
    )
    assert read_dictionary(text).not_collected == ()


@pytest.mark.parametrize("name", sorted(path.name for path in PUBLIC.glob("*.csv")))
def test_round_trip_field_by_field_and_column_by_column(name: str) -> None:
    """dictionary -> registry -> dictionary: every cell comes back, except those the report
    names and the Identifier flag of the fields the report says are not collected."""
    original = public(name)
    result = read_dictionary(original)
    written = write_dictionary(result.schemas)
    before = [
        row
        for row in csv.reader(io.StringIO(original.decode("utf-8-sig")))
        if any(cell.strip() for cell in row)
    ]
    after = list(csv.reader(io.StringIO(written)))
    assert [row[0] for row in after] == [row[0] for row in before]
    noted = {(note.row, note.column) for note in result.notes}
    sql_rows = {note.row for note in result.notes if note.column == "Field Type"}
    compared = 0
    for number, (old, new) in enumerate(zip(before[1:], after[1:], strict=True), start=2):
        for column, old_cell, new_cell in zip(COLUMNS, old, new, strict=True):
            if (number, column) in noted:
                continue
            if column == IDENTIFIER and old[0] in result.not_collected:
                assert new_cell == "y"
                continue
            if number in sql_rows and column == COLUMNS[5]:
                continue  # the query of an sql field is not kept, as its note says
            assert new_cell == old_cell.strip(), (number, old[0], column)
            compared += 1
    assert compared >= 17 * (len(before) - 1) - len(noted) - len(result.not_collected)
    # And the written dictionary is read back to the same schemas, with nothing more to say.
    again = read_dictionary(written, keep_dates=True)
    assert again.schemas == result.schemas
    assert write_dictionary(again.schemas) == written


# -- annotations and action tags --------------------------------------------------------------


def test_free_text_in_the_annotation_is_kept_and_written_back_as_it_was() -> None:
    result = read_dictionary(public("redcapr_potentially_problematic_dictionary.csv"))
    field = result.schemas[0].field("curly_quote_double_left")
    assert field.annotation == "https://github.com/OuhscBbmc/REDCapR/issues/290"
    assert result.notes == ()
    messy = "Source: chart review, see SOP\nOntology: HP:0001250 (seizure)\nask @ the clinic"
    result = read_dictionary(dictionary({"field_name": "source", "field_annotation": messy}))
    assert result.schemas[0].field("source").annotation == messy
    rows = list(csv.DictReader(io.StringIO(write_dictionary(result.schemas))))
    assert rows[1]["Field Annotation"] == messy


def test_registry_tags_and_redcap_tags_share_a_cell() -> None:
    cell = '@HPO="HP:0001335|Bimanual synkinesia"\n@RANDOMORDER @HIDDEN-SURVEY\nsee the SOP'
    result = read_dictionary(
        dictionary(
            {
                "field_name": "grade",
                "field_type": "radio",
                "select_choices_or_calculations": "1, One | 2, Two",
                "field_annotation": cell,
            }
        )
    )
    field = result.schemas[0].field("grade")
    assert [a.code for a in field.annotations] == ["HP:0001335"]
    assert field.annotation == "@RANDOMORDER @HIDDEN-SURVEY\nsee the SOP"
    again = read_dictionary(write_dictionary(result.schemas))
    assert again.schemas == result.schemas


def test_action_tags_that_change_validation_are_enforced_on_the_server() -> None:
    text = dictionary(
        {"field_name": "score", "text_validation_type_or_show_slider_number": "integer"},
        {"field_name": "level", "field_annotation": "@CALCTEXT(if([score] >= 10, 'high', 'low'))"},
        {
            "field_name": "summary",
            "field_type": "notes",
            "field_annotation": "@CHARLIMIT=20 @WORDLIMIT=3",
        },
        {
            "field_name": "symptoms",
            "field_type": "checkbox",
            "select_choices_or_calculations": "1, Pain | 2, Weakness | 3, Numbness | 99, None",
            "field_annotation": "@NONEOFTHEABOVE=99\n@MAXCHECKED=2",
        },
        {
            "field_name": "internal",
            "required_field": "y",
            "field_annotation": "@HIDDEN @DEFAULT='n/a'",
        },
        {"field_name": "fixed", "required_field": "y", "field_annotation": "@READONLY"},
        {"field_name": "hint", "field_annotation": '@PLACEHOLDER="e.g. 12 mm"'},
    )
    schema = read_dictionary(text).schemas[0]
    assert schema.field("internal").tags.hidden and schema.field("internal").tags.default == "n/a"
    assert schema.field("fixed").tags.readonly
    assert schema.field("hint").tags.placeholder == "e.g. 12 mm"
    result = validate_submission(
        schema, {"score": "12", "level": "typed", "summary": "one two", "symptoms": ["1"]}
    )
    assert result.errors == {}
    assert result.data["level"] == "high" and result.recomputed == {"level": ("typed", "high")}
    result = validate_submission(
        schema, {"score": "1", "summary": "one two three four", "symptoms": ["1", "99"]}
    )
    assert result.data["level"] == "low"
    assert "at most 3 are allowed" in result.errors["summary"][0]
    assert "cannot be ticked together" in result.errors["symptoms"][0]
    result = validate_submission(schema, {"summary": "x" * 21, "symptoms": ["1", "2", "3"]})
    assert "at most 20 are allowed" in result.errors["summary"][0]
    assert "at most 2 options" in result.errors["symptoms"][0]
    # A hidden or read-only field cannot be filled on the page, so 'required' waits.
    assert "internal" not in result.errors and "fixed" not in result.errors


def test_tags_kept_without_effect_are_named_in_the_report() -> None:
    result = read_dictionary(
        dictionary(
            {"field_name": "when_seen", "field_annotation": "@NOW"},
            {
                "field_name": "pick",
                "field_type": "radio",
                "select_choices_or_calculations": "1, A | 2, B",
                "field_annotation": "@IF([record-name] = '1', @HIDDEN, '') @RANDOMORDER "
                "@SETVALUE='1'",
            },
        )
    )
    messages = {(note.row, note.field): note.message for note in result.notes}
    assert "@NOW is kept" in messages[(3, "when_seen")]
    assert {note.message.split(" ")[0] for note in result.notes if note.row == 4} == {"@SETVALUE"}
    assert result.schemas[0].field("pick").annotation.startswith("@IF(")


def if_schema(annotation: str, *, field_type: str = "notes", choices: str = "") -> Any:
    return read_dictionary(
        dictionary(
            {
                "field_name": "kind",
                "field_type": "radio",
                "select_choices_or_calculations": "1, Short | 2, Long",
            },
            {"field_name": "depth", "text_validation_type_or_show_slider_number": "integer"},
            {
                "field_name": "summary",
                "field_type": field_type,
                "required_field": "y",
                "select_choices_or_calculations": choices,
                "field_annotation": annotation,
            },
        )
    ).schemas[0]


def test_if_applies_the_tags_of_the_branch_its_condition_chooses() -> None:
    schema = if_schema("@IF([kind] = '1', @CHARLIMIT=5, @CHARLIMIT=50) see the SOP")
    assert validate_submission(schema, {"kind": "2", "summary": "long enough text"}).errors == {}
    result = validate_submission(schema, {"kind": "1", "summary": "long enough text"})
    assert result.errors["summary"] == ["Question has 16 characters; at most 5 are allowed."]
    assert result.tags["summary"].charlimit == 5


def test_nested_if_decides_inside_the_chosen_branch() -> None:
    schema = if_schema("@IF([kind] = '1', @IF([depth] > 3, @WORDLIMIT=1, @WORDLIMIT=2), '')")
    two_words = {"summary": "two words"}
    assert validate_submission(schema, {"kind": "2", **two_words}).errors == {}
    assert validate_submission(schema, {"kind": "1", "depth": "1", **two_words}).errors == {}
    result = validate_submission(schema, {"kind": "1", "depth": "9", **two_words})
    assert "at most 1 are allowed" in result.errors["summary"][0]


def test_a_field_hidden_or_read_only_by_if_is_not_required() -> None:
    schema = if_schema("@IF([kind] = '1', @HIDDEN, '') @IF([kind] = '2', @READONLY, '')")
    assert "summary" in validate_submission(schema, {}).errors
    assert validate_submission(schema, {"kind": "1"}).errors == {}
    assert validate_submission(schema, {"kind": "2"}).errors == {}


def test_if_limits_checkbox_options() -> None:
    schema = if_schema(
        "@IF([depth] >= 2, @MAXCHECKED=1, @NONEOFTHEABOVE=9)",
        field_type="checkbox",
        choices="1, A | 2, B | 9, None",
    )
    assert validate_submission(schema, {"summary": ["1", "2"]}).errors == {}
    assert "together" in validate_submission(schema, {"summary": ["1", "9"]}).errors["summary"][0]
    assert (
        "at most 1 option"
        in validate_submission(schema, {"depth": "2", "summary": ["1", "2"]}).errors["summary"][0]
    )


def test_if_round_trips_through_the_dictionary_export() -> None:
    schema = if_schema(
        "@IF([kind] = '1', @IF([depth] > 3, @HIDDEN, @READONLY), '@CHARLIMIT=9') team note"
    )
    again = read_dictionary(write_dictionary([schema])).schemas[0]
    assert again == schema and again.field("summary").tags == schema.field("summary").tags


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        ("@IF([kind] = '1', @HIDDEN)", "found 2 parts"),
        ("@IF([kind] = , @HIDDEN, '')", "@IF: "),
        ("@IF([nowhere] = '1', @HIDDEN, '')", "[nowhere] is not a field"),
        ("@IF([kind] = '1', @MAXCHECKED=2, '')", "apply to checkbox fields, not notes"),
        ("@IF([kind] = '1', @CALCTEXT('x'), '')", "@CALCTEXT cannot be inside @IF"),
        ("@IF(1, " * 5 + "@HIDDEN" + ", '')" * 5, "nested more than 4 deep"),
    ],
)
def test_a_bad_if_is_refused_by_row_and_column(annotation: str, expected: str) -> None:
    problems = problems_of(
        dictionary(
            {
                "field_name": "kind",
                "field_type": "radio",
                "select_choices_or_calculations": "1, Short | 2, Long",
            },
            {"field_name": "summary", "field_type": "notes", "field_annotation": annotation},
        )
    )
    assert [(row, column) for row, column, _ in problems][:1] == [(4, "Field Annotation")]
    assert expected in problems[0][2]


def _deep_if(depth: int) -> str:
    return "@IF([a] = 1, " * depth + "@HIDDEN" + ", '')" * depth


def _many_ifs(count: int) -> str:
    return "@IF([a] = 1, @HIDDEN, '') " * count


def test_hostile_if_nesting_is_read_in_linear_time() -> None:
    assert_linear(lambda depth: parse_action_tags(_deep_if(depth)), 2_000, rounds=3)
    assert_linear(lambda count: parse_action_tags(_many_ifs(count)), 1_000, rounds=3)
    assert any("nested more than" in p for p in parse_action_tags(_deep_if(20_000))[1])
    assert len(parse_action_tags(_many_ifs(5_000))[0].conditionals) == 5_000


def test_a_bad_supported_tag_is_refused_by_row_and_column() -> None:
    problems = problems_of(
        dictionary(
            {"field_name": "summary", "field_annotation": "@CHARLIMIT=lots"},
            {
                "field_name": "pick",
                "field_type": "checkbox",
                "select_choices_or_calculations": "1, A | 2, B",
                "field_annotation": "@NONEOFTHEABOVE=9",
            },
            {
                "field_name": "total",
                "field_type": "calc",
                "select_choices_or_calculations": "1",
                "field_annotation": "@WORDLIMIT=3",
            },
        )
    )
    assert [(row, column) for row, column, _ in problems] == [
        (3, "Field Annotation"),
        (4, "Field Annotation"),
        (5, "Field Annotation"),
    ]
    assert "whole number" in problems[0][2]
    assert "9, which is not a code" in problems[1][2]


def test_calctext_reads_only_fields_that_exist() -> None:
    problems = problems_of(
        dictionary(
            {"field_name": "level", "field_annotation": "@CALCTEXT(if([scor] > 1, 'a', 'b'))"}
        )
    )
    assert problems[0][:2] == (3, "Field Annotation")
    assert "[scor] is not a field" in problems[0][2]


# -- flags REDCap users set, which the registry does not need ------------------------------------


def test_required_calc_and_identifier_required_are_imported_with_a_note() -> None:
    result = read_dictionary(
        dictionary(
            {
                "field_name": "bmi",
                "field_type": "calc",
                "select_choices_or_calculations": "1 + 1",
                "required_field": "y",
            },
            {"field_name": "initials", "identifier": "y", "required_field": "y"},
            {"field_name": "item", "question_number": "3a", "required_field": "y"},
        )
    )
    assert report(result) == {
        (3, "Required Field?", "bmi"),
        (4, "Identifier?", "initials"),
        (4, "Required Field?", "initials"),
        (5, "Question Number (surveys only)", "item"),
    }
    schema = result.schemas[0]
    assert not schema.field("bmi").required and not schema.field("initials").required
    assert schema.field("item").required


def test_limits_piped_from_a_smart_variable_or_another_event_import_with_a_note() -> None:
    result = read_dictionary(
        dictionary(
            {"field_name": "onset", "text_validation_type_or_show_slider_number": "integer"},
            {
                "field_name": "age",
                "text_validation_type_or_show_slider_number": "integer",
                "text_validation_min": "[baseline_arm_1][onset]",
                "text_validation_max": "120",
            },
            {
                "field_name": "count",
                "text_validation_type_or_show_slider_number": "integer",
                "text_validation_max": "[record-name]",
            },
        )
    )
    assert report(result) == {
        (4, "Text Validation Min", "age"),
        (5, "Text Validation Max", "count"),
    }
    assert result.schemas[0].field("age").max == 120


def test_blank_labels_are_allowed_on_descriptive_and_matrix_rows_only() -> None:
    result = read_dictionary(
        dictionary(
            {"field_name": "spacer", "field_type": "descriptive", "field_label": ""},
            {
                "field_name": "m_left",
                "field_type": "radio",
                "field_label": "",
                "select_choices_or_calculations": "0, No | 1, Yes",
                "matrix_group_name": "grid",
            },
        )
    )
    assert result.schemas[0].field("m_left").display_name == "m_left"
    problems = problems_of(dictionary({"field_name": "blank", "field_label": ""}))
    assert problems[0][:2] == (3, "Field Label")


def test_an_empty_calculation_is_refused_by_row_and_column() -> None:
    problems = problems_of(dictionary({"field_name": "total", "field_type": "calc"}))
    assert problems == [
        (3, "Choices, Calculations, OR Slider Labels", "a calc field needs its calculation in calc")
    ]


def test_autocomplete_dropdowns_import_and_round_trip() -> None:
    result = read_dictionary(
        dictionary(
            {
                "field_name": "country",
                "field_type": "dropdown",
                "select_choices_or_calculations": "1, Iran | 2, Canada",
                "text_validation_type_or_show_slider_number": "autocomplete",
            }
        )
    )
    assert result.schemas[0].field("country").validation == "autocomplete"
    assert validate_submission(result.schemas[0], {"country": "2"}).data == {"country": "2"}
    assert read_dictionary(write_dictionary(result.schemas)).schemas == result.schemas


# -- branching that REDCap users write ----------------------------------------------------------


def test_mutually_hiding_pair_is_not_a_cycle() -> None:
    result = read_dictionary(
        dictionary(
            {
                "field_name": "weight",
                "text_validation_type_or_show_slider_number": "number",
                "branching_logic": "[weight_unknown(1)] <> '1'",
            },
            {
                "field_name": "weight_unknown",
                "field_type": "checkbox",
                "select_choices_or_calculations": "1, Not known",
                "branching_logic": "[weight] = ''",
            },
        )
    )
    schema = result.schemas[0]
    assert validate_submission(schema, {"weight": "12.5"}).data == {"weight": 12.5}
    assert validate_submission(schema, {"weight_unknown": ["1"]}).data == {"weight_unknown": ["1"]}
    both = validate_submission(schema, {"weight": "12.5", "weight_unknown": ["1"]})
    assert list(both.errors) == ["weight"]


def test_a_cycle_through_a_calculation_is_still_refused_by_row_and_column() -> None:
    problems = problems_of(
        dictionary(
            {"field_name": "a", "field_type": "calc", "select_choices_or_calculations": "[b] + 1"},
            {
                "field_name": "b",
                "text_validation_type_or_show_slider_number": "integer",
                "branching_logic": "[a] > 1",
            },
        )
    )
    assert [(row, column) for row, column, _ in problems] == [(3, "Variable / Field Name")]
    assert "circle (a -> b -> a)" in problems[0][2]


def test_a_reference_to_a_field_that_exists_nowhere_names_row_and_column() -> None:
    problems = problems_of(dictionary({"field_name": "x", "branching_logic": "[nowhere] = '1'"}))
    assert problems[0][:2] == (3, "Branching Logic (Show field only if...)")
    assert "[nowhere] is not a field" in problems[0][2]


# -- dates ---------------------------------------------------------------------------------------


def test_dates_are_not_collected_by_default_and_kept_on_request() -> None:
    text = dictionary(
        {
            "field_name": "visit_date",
            "text_validation_type_or_show_slider_number": "date_dmy",
            "text_validation_min": "2000-01-01",
            "required_field": "y",
        }
    )
    default = read_dictionary(text)
    assert default.not_collected == ("visit_date",)
    assert report(default) == {(3, VALIDATION, "visit_date"), (3, "Required Field?", "visit_date")}
    assert validate_submission(default.schemas[0], {"visit_date": "2020-01-01"}).errors
    kept = read_dictionary(text, keep_dates=True)
    assert kept.not_collected == () and kept.notes == ()
    assert validate_submission(kept.schemas[0], {"visit_date": "2020-01-01"}).data == {
        "visit_date": "2020-01-01"
    }


# -- encodings and headers ------------------------------------------------------------------------


def test_utf8_with_and_without_a_byte_order_mark_and_crlf_read_the_same() -> None:
    text = dictionary({"field_name": "note_fa", "field_label": "یادداشت \u2013 \u201cquoted\u201d"})
    plain = read_dictionary(text.encode("utf-8"))
    assert read_dictionary(b"\xef\xbb\xbf" + text.encode("utf-8")).schemas == plain.schemas
    crlf = text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
    assert read_dictionary(crlf).schemas == plain.schemas
    assert plain.schemas[0].field("note_fa").label == "یادداشت \u2013 \u201cquoted\u201d"


def test_a_cp1252_file_is_refused_naming_the_byte_its_row_and_the_encoding() -> None:
    text = dictionary({"field_name": "item", "field_label": "Patient\u2019s side"})
    problems = problems_of(text.encode("cp1252"))
    assert len(problems) == 1
    row, column, message = problems[0]
    assert row == 3 and column == ""
    assert "byte 0x92" in message and "Windows-1252 (cp1252)" in message
    assert "'\u2019'" in message and "CSV UTF-8" in message


def test_the_apis_metadata_column_names_are_read_as_well() -> None:
    result = read_dictionary(public("redcapr_repeating_instruments.csv"))
    rows = metadata_rows(result.schemas)
    again = read_metadata(rows)
    assert again.schemas == read_dictionary(write_dictionary(result.schemas)).schemas
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=METADATA_KEYS)
    writer.writeheader()
    writer.writerows(rows)
    assert read_dictionary(buffer.getvalue()).schemas == again.schemas


# -- the record ID and the instruments ---------------------------------------------------------


def test_the_record_id_keeps_its_name_label_and_instrument() -> None:
    text = dictionary({"field_name": "age"}, first_form="identity").replace(
        "record_id,identity,,text,Record ID", "study_id,identity,,text,Study number"
    )
    result = read_dictionary(text)
    assert (result.record_id_field, result.record_id_label, result.record_id_form) == (
        "study_id",
        "Study number",
        "identity",
    )
    data = schema_to_dict(result.schemas[0])
    assert data["record_id"] == {"name": "study_id", "label": "Study number", "form": "identity"}
    assert load_schema(data) == result.schemas[0]
    written = write_dictionary(result.schemas)
    assert written.splitlines()[1] == "study_id,identity,,text,Study number,,,,,,,,,,,,,"
    assert read_dictionary(written).schemas == result.schemas


def test_instruments_keep_the_order_of_the_file() -> None:
    rows = [{"field_name": f"f_{form}", "form_name": form} for form in ("zeta", "alpha", "mid")]
    assert read_dictionary(dictionary(*rows, first_form="zeta")).forms == ("zeta", "alpha", "mid")


# -- ontology fields -------------------------------------------------------------------------------


def test_bioportal_fields_take_ontology_codes_and_round_trip() -> None:
    result = read_dictionary(
        dictionary(
            {"field_name": "phenotype", "select_choices_or_calculations": "BIOPORTAL:HP"},
            {"field_name": "disease", "select_choices_or_calculations": "BIOPORTAL:MONDO"},
        )
    )
    schema = result.schemas[0]
    assert schema.field("phenotype").ontology == "HP" and not schema.field("phenotype").phi_screen
    good = validate_submission(schema, {"phenotype": " HP:0001250 ", "disease": "MONDO_0007739"})
    assert good.errors == {} and good.data == {
        "phenotype": "HP:0001250",
        "disease": "MONDO_0007739",
    }
    bad = validate_submission(schema, {"phenotype": "HP:12", "disease": "seizures since May"})
    assert "must be a HP term's code, for example HP:0001250" in bad.errors["phenotype"][0]
    assert "must be a MONDO term's code" in bad.errors["disease"][0]
    rows = list(csv.DictReader(io.StringIO(write_dictionary(result.schemas))))
    assert rows[1]["Choices, Calculations, OR Slider Labels"] == "BIOPORTAL:HP"
    assert read_dictionary(write_dictionary(result.schemas)).schemas == result.schemas


def test_an_ontology_needs_a_text_field_without_validation() -> None:
    problems = problems_of(
        dictionary(
            {
                "field_name": "phenotype",
                "select_choices_or_calculations": "BIOPORTAL:HP",
                "text_validation_type_or_show_slider_number": "integer",
            }
        )
    )
    assert problems[0][:2] == (3, "Choices, Calculations, OR Slider Labels")


# -- piped limits ----------------------------------------------------------------------------------


def test_a_limit_piped_from_another_field_is_checked_on_the_server() -> None:
    result = read_dictionary(
        dictionary(
            {
                "field_name": "onset_age",
                "text_validation_type_or_show_slider_number": "integer",
                "field_label": "Age at onset",
            },
            {
                "field_name": "diagnosis_age",
                "text_validation_type_or_show_slider_number": "number",
                "field_label": "Age at diagnosis",
                "text_validation_min": "[onset_age]",
                "text_validation_max": "120",
            },
        )
    )
    assert result.notes == ()
    schema = result.schemas[0]
    assert schema.field("diagnosis_age").min == "[onset_age]"
    assert validate_submission(schema, {"onset_age": "4", "diagnosis_age": "6.5"}).errors == {}
    late = validate_submission(schema, {"onset_age": "4", "diagnosis_age": "2"})
    assert late.errors == {
        "diagnosis_age": ["Age at diagnosis must be at least Age at onset (4); you entered 2."]
    }
    # Only the fixed limit applies while the other field is blank.
    assert validate_submission(schema, {"diagnosis_age": "2"}).errors == {}
    assert "120" in validate_submission(schema, {"diagnosis_age": "200"}).errors["diagnosis_age"][0]
    rows = list(csv.DictReader(io.StringIO(write_dictionary(result.schemas))))
    assert rows[2]["Text Validation Min"] == "[onset_age]"
    assert read_dictionary(write_dictionary(result.schemas)).schemas == result.schemas


def test_a_piped_limit_must_name_a_field_of_the_same_kind() -> None:
    problems = problems_of(
        dictionary(
            {"field_name": "label_text"},
            {
                "field_name": "age",
                "text_validation_type_or_show_slider_number": "integer",
                "text_validation_min": "[label_text]",
                "text_validation_max": "[nowhere]",
            },
        )
    )
    assert [(row, column) for row, column, _ in problems] == [
        (4, "Text Validation Min"),
        (4, "Text Validation Max"),
    ]
    assert "integer validation" in problems[0][2]
    assert "[nowhere] is not a field" in problems[1][2]


def test_a_reference_to_an_instrument_with_problems_says_where_the_field_is() -> None:
    problems = problems_of(
        dictionary(
            {
                "field_name": "sex",
                "field_type": "radio",
                "select_choices_or_calculations": "1, Female | 2, Male",
            },
            {"field_name": "score", "field_type": "calc"},
            {
                "field_name": "pregnant",
                "form_name": "followup",
                "field_type": "yesno",
                "branching_logic": "[sex] = '1' or [nowhere] = 1",
            },
        )
    )
    assert [(row, column) for row, column, _ in problems] == [
        (4, "Choices, Calculations, OR Slider Labels"),
        (5, "Branching Logic (Show field only if...)"),
        (5, "Branching Logic (Show field only if...)"),
    ]
    assert problems[1][2] == (
        "[sex] is a field of instrument 'intake', which cannot be read "
        "until its own problems (listed) are corrected"
    )
    assert problems[2][2] == "[nowhere] is not a field of this form or of another form"
