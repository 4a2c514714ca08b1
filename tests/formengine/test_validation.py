"""Validating submissions against a form version (registry/formengine/validation.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry.formengine.schema import FormSchema, load_schema
from registry.formengine.validation import FORM_ERRORS, validate_submission

TODAY = dt.date(2025, 6, 1)

ASSESSMENT = load_schema(
    {
        "form": "assessment",
        "version": 1,
        "title": "Assessment",
        "repeatable": True,
        "missing_codes": [{"code": "UNK", "label": "Unknown"}],
        "checks": [
            {
                "field": "onset_months",
                "rule": "[onset_months] = '' or [onset_months] <= [age_months]",
                "message": "Age at onset cannot be after the age at assessment.",
            }
        ],
        "fields": [
            {
                "name": "age_months",
                "type": "text",
                "validation": "integer",
                "label": "Age at assessment (months)",
                "min": 0,
                "max": 1200,
                "required": True,
            },
            {"name": "mm_present", "type": "yesno", "label": "Mirror movements present"},
            {
                "name": "onset_months",
                "type": "text",
                "validation": "integer",
                "label": "Age at onset (months)",
                "show_if": "[mm_present] = '1'",
                "min": 0,
            },
            {
                "name": "regions",
                "type": "checkbox",
                "label": "Body regions",
                "show_if": "[mm_present] = '1'",
                "required": True,
                "choices": [
                    {"code": "distal", "label": "Hand"},
                    {"code": "proximal", "label": "Arm"},
                    {"code": "lower-limbs", "label": "Legs"},
                ],
            },
            {
                "name": "grade",
                "type": "radio",
                "label": "Woods & Teuber grade",
                "show_if": "[mm_present] = '1'",
                "choices": [{"code": str(n), "label": f"Grade {n}"} for n in range(5)],
            },
            {
                "name": "classification",
                "type": "dropdown",
                "label": "Classification",
                "choices": [
                    {"code": "physiological", "label": "Physiological"},
                    {"code": "hereditary", "label": "Hereditary"},
                ],
            },
            {"name": "tms_done", "type": "truefalse", "label": "TMS performed"},
            {
                "name": "weight_kg",
                "type": "text",
                "validation": "number_1dp",
                "label": "Weight (kg)",
                "min": 0.5,
                "max": 200,
            },
            {"name": "height_m", "type": "text", "validation": "number", "label": "Height (m)"},
            {
                "name": "weight_eu",
                "type": "text",
                "validation": "number_2dp_comma_decimal",
                "label": "Weight, comma decimal",
            },
            {
                "name": "bmi",
                "type": "calc",
                "label": "BMI",
                "calc": "round([weight_kg] / ([height_m] * [height_m]), 1)",
            },
            {
                "name": "exam_date",
                "type": "text",
                "validation": "date_ymd",
                "label": "Date of the examination",
                "min": "2000-01-01",
                "max": "today",
            },
            {
                "name": "exam_moment",
                "type": "text",
                "validation": "datetime_ymd",
                "label": "Examination started",
            },
            {"name": "exam_time", "type": "text", "validation": "time", "label": "Time of day"},
            {"name": "gene", "type": "text", "validation": "alpha_only", "label": "Gene"},
            {
                "name": "variant",
                "type": "text",
                "label": "Variant",
                "pattern": r"^c\.[0-9]+[ACGT]>[ACGT]$",
                "pattern_message": "Write the variant in HGVS notation, for example c.1234G>A.",
                "phi_screen": False,
            },
            {"name": "impact", "type": "slider", "label": "Impact", "min": 0, "max": 10},
            {"name": "scan", "type": "file", "label": "Report scan"},
            {"name": "findings", "type": "notes", "label": "Other findings"},
            {"name": "comment", "type": "text", "label": "Comment"},
            {"name": "intro", "type": "descriptive", "label": "Read the manual first."},
            {"name": "initials", "type": "text", "label": "Initials", "identifier": True},
        ],
    }
)

BASE = {"age_months": "36"}


def validate(data: dict[str, Any], **options: Any) -> Any:
    return validate_submission(ASSESSMENT, data, today=TODAY, **options)


def valid(extra: dict[str, Any]) -> dict[str, Any]:
    result = validate({**BASE, **extra})
    assert result.errors == {}, result.errors
    return result.data


def errors_for(field: str, extra: dict[str, Any]) -> list[str]:
    result = validate({**BASE, **extra})
    assert field in result.errors, result.errors
    return result.errors[field]


# -- types and validation types ------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "given", "stored"),
    [
        ("age_months", "12", 12),
        ("age_months", 12, 12),
        ("age_months", 12.0, 12),
        ("age_months", " +7 ", 7),
        ("weight_kg", "12.5", 12.5),
        ("weight_kg", 12, 12.0),
        ("height_m", "1.2e0", 1.2),
        ("height_m", ".95", 0.95),
        ("weight_eu", "12,25", 12.25),
        ("weight_eu", "12.25", 12.25),
        ("exam_date", "2019-3-5", "2019-03-05"),
        ("exam_date", dt.date(2019, 3, 5), "2019-03-05"),
        ("exam_moment", "2019-03-05 9:30", "2019-03-05 09:30"),
        ("exam_moment", "2019-03-05T09:30", "2019-03-05 09:30"),
        ("exam_time", "7:05", "07:05"),
        ("gene", "DCC", "DCC"),
        ("variant", "c.1234G>A", "c.1234G>A"),
        ("impact", "7", 7),
        ("impact", 10, 10),
        ("classification", "hereditary", "hereditary"),
        ("tms_done", "1", "1"),
        ("tms_done", False, "0"),
        ("tms_done", 1, "1"),
        ("tms_done", True, "1"),
        ("scan", "doc-2f6c", "doc-2f6c"),
        (
            "findings",
            "Right sixth-nerve paresis.\r\nNo long-tract signs.  ",
            "Right sixth-nerve paresis.\nNo long-tract signs.",
        ),
        ("comment", 42, "42"),
    ],
)
def test_values_of_each_type_are_accepted_and_typed(field: str, given: Any, stored: Any) -> None:
    data = valid({field: given})
    assert data[field] == stored
    assert type(data[field]) is type(stored)


@pytest.mark.parametrize(
    ("field", "given", "fragment"),
    [
        ("age_months", "12a", "must be a whole number between 0 and 1200; you entered '12a'"),
        ("age_months", "12.0", "whole number"),
        ("age_months", "1300", "between 0 and 1200"),
        ("age_months", True, "whole number"),
        ("weight_kg", "12.55", "at most 1 decimal place"),
        ("weight_kg", "0.2", "between 0.5 and 200"),
        ("height_m", "tall", "must be a number"),
        ("height_m", float("nan"), "must be a number"),
        ("weight_eu", "12,255", "at most 2 decimal places"),
        ("exam_date", "12/03/2019", "a date written YYYY-MM-DD between 2000-01-01 and today"),
        ("exam_date", "2019-02-30", "YYYY-MM-DD"),
        ("exam_date", "1999-12-31", "between 2000-01-01 and today"),
        ("exam_date", "2025-06-02", "between 2000-01-01 and today"),
        ("exam_moment", "2019-03-05", "YYYY-MM-DD HH:MM"),
        ("exam_time", "24:00", "HH:MM"),
        ("gene", "DCC1", "letters only"),
        ("variant", "1234G>A", "HGVS notation"),
        ("impact", "11", "between 0 and 10"),
        ("impact", "5.5", "whole number"),
        ("classification", "genetic", "must be one of physiological (Physiological)"),
        ("tms_done", "yes", "must be one of 1 (True), 0 (False)"),
        ("grade", ["1"], "must be one of"),
        ("scan", 12, "reference to an uploaded file"),
        ("comment", {"a": 1}, "must be text"),
    ],
)
def test_wrong_values_are_refused_with_the_field_label(
    field: str, given: Any, fragment: str
) -> None:
    messages = errors_for(field, {"mm_present": "1", "regions": ["distal"], field: given})
    label = ASSESSMENT.field(field).label
    assert any(message.startswith(label) and fragment in message for message in messages), messages


def test_the_example_message_reads_as_the_design_says() -> None:
    assert errors_for("age_months", {"age_months": "12a"}) == [
        "Age at assessment (months) must be a whole number between 0 and 1200; you entered '12a'."
    ]


def test_checkbox_values_are_listed_in_choice_order_without_repeats() -> None:
    data = valid({"mm_present": "1", "regions": ["lower-limbs", "distal", "distal"]})
    assert data["regions"] == ["distal", "lower-limbs"]


def test_checkbox_accepts_a_comma_separated_string() -> None:
    assert valid({"mm_present": "1", "regions": "proximal,distal"})["regions"] == [
        "distal",
        "proximal",
    ]


def test_checkbox_refuses_unknown_codes_naming_them() -> None:
    messages = errors_for("regions", {"mm_present": "1", "regions": ["distal", "face"]})
    assert "'face' is not one of its options" in messages[0]


def test_redcap_checkbox_columns_are_folded_into_the_list() -> None:
    data = valid(
        {
            "mm_present": "1",
            "regions___distal": "1",
            "regions___proximal": "0",
            "regions___lower_limbs": 1,
        }
    )
    assert data["regions"] == ["distal", "lower-limbs"]


def test_checkbox_columns_and_a_list_together_are_refused() -> None:
    messages = errors_for(
        "regions", {"mm_present": "1", "regions": ["distal"], "regions___proximal": "1"}
    )
    assert "send one or the other" in messages[0]


def test_declared_missing_codes_are_accepted_whatever_the_type() -> None:
    data = valid(
        {
            "age_months": "UNK",
            "mm_present": "1",
            "regions": "UNK",
            "exam_date": "UNK",
            "grade": "UNK",
        }
    )
    assert data["age_months"] == "UNK"
    assert data["regions"] == "UNK"
    assert data["grade"] == "UNK"


def test_undeclared_codes_are_still_refused() -> None:
    assert errors_for("age_months", {"age_months": "NA"})


# -- blanks, required, hidden --------------------------------------------------------------


def test_blanks_are_left_out_of_the_data() -> None:
    data = valid({"comment": "  ", "findings": None, "grade": "", "classification": None})
    assert data == {"age_months": 36}


def test_required_fields_must_be_answered() -> None:
    result = validate({})
    assert result.errors == {"age_months": ["Age at assessment (months) is required."]}


def test_a_draft_lists_required_answers_missing_instead_of_refusing() -> None:
    result = validate({"mm_present": "1"}, require_answers=False)
    assert result.errors == {}
    assert result.missing == ["age_months", "regions"]
    assert result.data == {"mm_present": "1"}


def test_a_draft_still_refuses_wrong_answers() -> None:
    result = validate({"age_months": "three"}, require_answers=False)
    assert list(result.errors) == ["age_months"] and result.missing == []


def test_required_applies_only_when_the_field_is_shown() -> None:
    assert valid({"mm_present": "0"}) == {"age_months": 36, "mm_present": "0"}
    assert errors_for("regions", {"mm_present": "1"}) == ["Body regions is required."]


def test_a_hidden_field_with_a_value_is_an_error_naming_it() -> None:
    messages = errors_for("grade", {"mm_present": "0", "grade": "3"})
    assert messages[0].startswith("Woods & Teuber grade must be blank")
    assert "[mm_present] = '1'" in messages[0]


def test_hidden_values_are_cleared_when_asked_and_listed() -> None:
    result = validate(
        {**BASE, "mm_present": "0", "grade": "3", "onset_months": "x"}, clear_hidden=True
    )
    assert result.errors == {}
    assert result.cleared_hidden == ["onset_months", "grade"]
    assert "grade" not in result.data
    assert "grade" in result.hidden


# -- calculations, checks ------------------------------------------------------------------


def test_calcs_are_computed_by_the_server() -> None:
    data = valid({"weight_kg": "20", "height_m": "1.1"})
    assert data["bmi"] == 16.5


def test_a_submitted_calc_that_differs_is_replaced_and_reported() -> None:
    result = validate({**BASE, "weight_kg": "20", "height_m": "1.1", "bmi": "99"})
    assert result.errors == {}
    assert result.data["bmi"] == 16.5
    assert result.recomputed == {"bmi": ("99", 16.5)}


def test_a_submitted_calc_that_agrees_is_not_reported() -> None:
    result = validate({**BASE, "weight_kg": "20", "height_m": "1.1", "bmi": 16.5})
    assert result.recomputed == {}


def test_a_calc_with_blank_inputs_is_blank() -> None:
    result = validate({**BASE, "bmi": "12"})
    assert "bmi" not in result.data
    assert result.recomputed == {"bmi": ("12", None)}


def test_calcs_feed_later_calcs_in_dependency_order() -> None:
    schema = load_schema(
        {
            "form": "chain",
            "version": 1,
            "title": "Chain",
            "fields": [
                {"name": "doubled", "type": "calc", "label": "Doubled", "calc": "[plus_one] * 2"},
                {"name": "plus_one", "type": "calc", "label": "Plus one", "calc": "[n] + 1"},
                {"name": "n", "type": "text", "validation": "integer", "label": "N"},
                {"name": "big", "type": "yesno", "label": "Big", "show_if": "[doubled] > 10"},
            ],
        }
    )
    result = validate_submission(schema, {"n": "5", "big": "1"})
    assert result.errors == {}
    assert result.data == {"doubled": 12, "plus_one": 6, "n": 5, "big": "1"}


def test_form_checks_block_with_their_message() -> None:
    messages = errors_for(
        "onset_months", {"mm_present": "1", "regions": ["distal"], "onset_months": "40"}
    )
    assert messages == ["Age at onset cannot be after the age at assessment."]


def test_form_checks_are_skipped_while_their_field_is_hidden() -> None:
    result = validate({**BASE, "mm_present": "0", "onset_months": "40"}, clear_hidden=True)
    assert result.errors == {}


def test_form_checks_wait_for_valid_inputs() -> None:
    result = validate(
        {"age_months": "abc", "mm_present": "1", "regions": ["distal"], "onset_months": "40"}
    )
    assert list(result.errors) == ["age_months"]


# -- keys, identifiers, descriptive, PHI ---------------------------------------------------


def test_unknown_keys_are_refused_naming_them() -> None:
    result = validate({**BASE, "age_month": "3", "surname": "X"})
    assert result.errors["age_month"] == [
        "'age_month' is not a field of form assessment (version 1). Did you mean 'age_months'?"
    ]
    assert "surname" in result.errors


def test_identifier_fields_are_never_stored() -> None:
    messages = errors_for("initials", {"initials": "JD"})
    assert "never stored" in messages[0]
    assert "initials" not in valid({"initials": ""})


def test_descriptive_fields_take_no_value() -> None:
    assert "takes no value" in errors_for("intro", {"intro": "x"})[0]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("call 0912 345 6789", "a phone number"),
        ("john@x.org", "an e-mail address"),
        ("born 12/03/2019", "a calendar date"),
        ("seen by Dr. Smith", "a title followed by a name"),
        ("MRN 12345678", "a long number"),
    ],
)
def test_free_text_with_identifiers_is_refused(text: str, kind: str) -> None:
    for field in ("findings", "comment"):
        messages = errors_for(field, {field: text})
        label = ASSESSMENT.field(field).label
        assert messages[0].startswith(f"{label} contains what looks like {kind}")
        assert text not in messages[0]


@pytest.mark.parametrize(
    "text",
    ["C5 level, 10 days", "MM grade 3 at 36 months", "T2 hyperintensity C1-C2", "HP:0001335"],
)
def test_clinical_free_text_is_accepted(text: str) -> None:
    assert valid({"findings": text})["findings"] == text


def test_opted_out_fields_are_not_screened() -> None:
    schema = load_schema(
        {
            "form": "genetics",
            "version": 1,
            "title": "Genetics",
            "fields": [
                {"name": "report_id", "type": "text", "label": "Lab report", "phi_screen": False}
            ],
        }
    )
    assert validate_submission(schema, {"report_id": "12345678"}).errors == {}


def test_a_submission_must_be_a_mapping() -> None:
    result = validate_submission(ASSESSMENT, ["age_months"])  # type: ignore[arg-type]
    assert FORM_ERRORS in result.errors


# -- properties and speed ------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=1200))
def test_every_whole_number_in_range_round_trips(months: int) -> None:
    for given_value in (months, str(months), float(months)):
        assert validate({"age_months": given_value}).data == {"age_months": months}


@given(st.integers().filter(lambda n: n < 0 or n > 1200))
def test_every_whole_number_out_of_range_is_refused(months: int) -> None:
    assert "age_months" in validate({"age_months": months}).errors


@given(st.dictionaries(st.sampled_from(ASSESSMENT.field_names), st.text(max_size=20)))
def test_validation_never_raises_and_keeps_only_fields(data: dict[str, str]) -> None:
    result = validate(data, clear_hidden=True)
    assert set(result.data) <= set(ASSESSMENT.field_names)
    assert "intro" not in result.data and "initials" not in result.data


def _wide_schema(count: int) -> FormSchema:
    fields: list[dict[str, Any]] = [{"name": "gate", "type": "yesno", "label": "Gate"}]
    for n in range(count - 1):
        kind = n % 4
        name = f"f{n}"
        if kind == 0:
            fields.append(
                {
                    "name": name,
                    "type": "text",
                    "validation": "integer",
                    "label": f"Q{n}",
                    "min": 0,
                    "max": 100,
                    "show_if": "[gate] = '1'",
                }
            )
        elif kind == 1:
            fields.append(
                {
                    "name": name,
                    "type": "radio",
                    "label": f"Q{n}",
                    "choices": [{"code": str(c), "label": f"C{c}"} for c in range(5)],
                }
            )
        elif kind == 2:
            fields.append(
                {
                    "name": name,
                    "type": "checkbox",
                    "label": f"Q{n}",
                    "choices": [{"code": str(c), "label": f"C{c}"} for c in range(5)],
                }
            )
        else:
            fields.append({"name": name, "type": "notes", "label": f"Q{n}"})
    return load_schema({"form": "wide", "version": 1, "title": "Wide", "fields": fields})


def test_an_eighty_field_form_with_branching_validates_cleanly() -> None:
    # Speed is measured in the benchmark suite (bench/validation.py), not here.
    schema = _wide_schema(80)
    data: dict[str, Any] = {"gate": "1"}
    for n in range(79):
        data[f"f{n}"] = (
            ["1", "3"] if n % 4 == 2 else ("Grade 3 at 36 months" if n % 4 == 3 else "3")
        )
    result = validate_submission(schema, data)
    assert result.errors == {}
    assert result.data["f2"] == ["1", "3"]


def test_a_form_check_that_evaluates_to_zero_blocks_like_false() -> None:
    schema = load_schema(
        {
            "form": "zero",
            "version": 1,
            "title": "Zero",
            "checks": [{"field": "n", "rule": "[n] - 3", "message": "N must not be 3."}],
            "fields": [{"name": "n", "type": "text", "validation": "integer", "label": "N"}],
        }
    )
    assert validate_submission(schema, {"n": "3"}).errors == {"n": ["N must not be 3."]}
    assert validate_submission(schema, {"n": "4"}).errors == {}
