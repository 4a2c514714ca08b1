"""Loading and checking form schemas (registry/formengine/schema.py)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from registry.formengine.schema import (
    FormSchema,
    Problem,
    SchemaError,
    content_hash,
    load_schema,
    schema_to_dict,
)

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"
REGISTRY_SCHEMAS = sorted(FORMS_DIR.glob("*/v*.yaml"))


def form(*fields: dict[str, Any], **top: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "form": "assessment",
        "version": 1,
        "title": "Assessment",
        "repeatable": True,
        "fields": list(fields),
    }
    data.update(top)
    return data


def yesno(name: str = "mm_present", **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": "yesno", "label": "Mirror movements present", **extra}


def integer(name: str = "age_months", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": "text",
        "validation": "integer",
        "label": "Age (months)",
        "min": 0,
        "max": 1200,
        **extra,
    }


def checkbox(name: str = "regions", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": "checkbox",
        "label": "Regions",
        "choices": [
            {"code": "distal", "label": "Distal"},
            {"code": "proximal", "label": "Proximal"},
        ],
        **extra,
    }


def problems_of(data: dict[str, Any]) -> list[Problem]:
    with pytest.raises(SchemaError) as caught:
        load_schema(data)
    return caught.value.problems


def only_problem(data: dict[str, Any]) -> Problem:
    problems = problems_of(data)
    assert len(problems) == 1, problems
    return problems[0]


def test_a_minimal_schema_loads_with_lookups() -> None:
    schema = load_schema(form(integer(), yesno()))
    assert isinstance(schema, FormSchema)
    assert schema.field_names == ("age_months", "mm_present")
    assert schema.field("mm_present").choice_codes == ("1", "0")
    assert "age_months" in schema
    assert schema.repeatable is True


@pytest.mark.parametrize("path", REGISTRY_SCHEMAS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_registry_schemas_survive_canonical_data_unchanged(path: Path) -> None:
    schema = load_schema(yaml.safe_load(path.read_text(encoding="utf-8")))
    again = load_schema(schema_to_dict(schema))
    assert again == schema
    assert schema_to_dict(again) == schema_to_dict(schema)


def test_compiled_logic_is_kept_on_the_field() -> None:
    schema = load_schema(form(yesno(), integer(show_if="[mm_present] = '1'")))
    field = schema.field("age_months")
    assert field.show_if_logic is not None
    assert field.show_if_fields == frozenset({"mm_present"})


def test_evaluation_order_puts_what_a_field_reads_first() -> None:
    schema = load_schema(
        form(
            {"name": "total", "type": "calc", "label": "Total", "calc": "[a] + [b]"},
            integer("a", show_if="[gate] = '1'"),
            integer("b"),
            yesno("gate"),
        )
    )
    order = [f.name for f in schema.evaluation_order]
    assert order.index("gate") < order.index("a") < order.index("total")
    assert order.index("b") < order.index("total")


def test_every_problem_is_reported_at_once() -> None:
    problems = problems_of(
        form(
            {"name": "Bad Name", "type": "text", "label": "x"},
            {"name": "ok_field", "type": "sql", "label": "y"},
            {"name": "no_label", "type": "yesno"},
        )
    )
    paths = {problem.path for problem in problems}
    assert {"fields[0].name", "fields[1].type", "fields[2].label"} <= paths


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("Age", "lower-case"),
        ("1st_visit", "starting with a letter"),
        ("_hidden", "starting with a letter"),
        ("age_", "must not end with an underscore"),
        ("a___b", "'___'"),
        ("a" * 101, "longer than 100"),
        ("age-months", "for example 'age_months'"),
    ],
)
def test_field_names_follow_redcap_rules(name: str, fragment: str) -> None:
    problem = only_problem(form({"name": name, "type": "text", "label": "Question"}))
    assert problem.path == "fields[0].name"
    assert fragment in problem.message


@pytest.mark.parametrize(
    "name",
    ["redcap_event_name", "redcap_repeat_instance", "assessment_complete", "assessment_timestamp"],
)
def test_reserved_names_are_refused(name: str) -> None:
    problem = only_problem(form({"name": name, "type": "text", "label": "Question"}))
    assert "reserved" in problem.message


def test_duplicate_field_names_are_refused_naming_the_first() -> None:
    problem = only_problem(form(yesno(), yesno()))
    assert problem.path == "fields[1].name"
    assert "fields[0]" in problem.message


def test_sql_fields_are_refused_with_the_reason() -> None:
    problem = only_problem(form({"name": "site", "type": "sql", "label": "Site"}))
    assert problem.path == "fields[0].type"
    assert "runs SQL" in problem.message
    assert "dropdown" in problem.message


@pytest.mark.parametrize(("alias", "canonical"), [("textarea", "notes"), ("select", "dropdown")])
def test_legacy_type_aliases_belong_only_in_dictionaries(alias: str, canonical: str) -> None:
    field = {"name": "q", "type": alias, "label": "Question"}
    if canonical == "dropdown":
        field["choices"] = [{"code": "1", "label": "One"}]
    problem = only_problem(form(field))
    assert f"write type: {canonical}" in problem.message


def test_unknown_types_list_the_known_ones() -> None:
    problem = only_problem(form({"name": "q", "type": "matrix", "label": "Question"}))
    assert "checkbox" in problem.message


def test_unknown_keys_suggest_the_likely_one() -> None:
    problem = only_problem(form(yesno(requird=True)))
    assert problem.path == "fields[0].requird"
    assert "did you mean 'required'" in problem.message
    assert problem.field == "mm_present"


def test_unknown_validation_is_refused() -> None:
    problem = only_problem(form(integer(validation="intger")))
    assert problem.path == "fields[0].validation"
    assert "unknown validation 'intger'" in problem.message


@pytest.mark.parametrize(
    "validation", ["email", "phone", "ssn", "mrn_10d", "mrn_generic", "zipcode", "postalcode_uk"]
)
def test_identifier_validations_need_an_identifier_field(validation: str) -> None:
    field = {"name": "contact", "type": "text", "label": "Contact", "validation": validation}
    problem = only_problem(form(field))
    assert "direct identifier" in problem.message
    load_schema(form({**field, "identifier": True}))


def test_a_signature_must_be_an_identifier() -> None:
    field = {"name": "signed", "type": "file", "label": "Signature", "validation": "signature"}
    assert "identifies the patient" in only_problem(form(field)).message
    load_schema(form({**field, "identifier": True}))


def test_identifier_fields_cannot_be_required() -> None:
    field = {"name": "initials", "type": "text", "label": "Initials", "identifier": True}
    problem = only_problem(form({**field, "required": True}))
    assert "never stored" in problem.message


def test_min_above_max_is_refused() -> None:
    problem = only_problem(form(integer(min=10, max=5)))
    assert problem.path == "fields[0].max"
    assert "below min" in problem.message


@pytest.mark.parametrize(
    ("validation", "bound", "hint"),
    [
        ("integer", 1.5, "a whole number"),
        ("integer", "10", "a whole number"),
        ("number", "ten", "a number"),
        ("date_ymd", "12/03/2019", "YYYY-MM-DD"),
        ("time", "25:00", "HH:MM"),
    ],
)
def test_bounds_must_suit_the_validation(validation: str, bound: object, hint: str) -> None:
    field = {"name": "q", "type": "text", "label": "Q", "validation": validation, "min": bound}
    problem = only_problem(form(field))
    assert problem.path == "fields[0].min"
    assert hint in problem.message


def test_date_bounds_accept_today_and_yaml_dates() -> None:
    import datetime as dt

    field = {
        "name": "seen",
        "type": "text",
        "label": "Seen",
        "validation": "date_ymd",
        "min": dt.date(2000, 1, 1),
        "max": "today",
    }
    schema = load_schema(form(field))
    assert schema.field("seen").min == "2000-01-01"
    assert schema.field("seen").max == "today"


def test_bounds_need_a_validation() -> None:
    problem = only_problem(form({"name": "q", "type": "text", "label": "Q", "min": 0}))
    assert "needs a text field with an integer" in problem.message


def test_choice_fields_need_choices() -> None:
    problem = only_problem(form({"name": "q", "type": "radio", "label": "Q"}))
    assert problem.path == "fields[0].choices"


def test_choice_codes_must_be_valid_text() -> None:
    choices = [{"code": "a b", "label": "A"}, {"code": 2, "label": "B"}]
    problems = problems_of(form({"name": "q", "type": "radio", "label": "Q", "choices": choices}))
    by_path = {problem.path: problem.message for problem in problems}
    assert "letters, digits" in by_path["fields[0].choices[0].code"]
    assert 'write it in quotes, code: "2"' in by_path["fields[0].choices[1].code"]


def test_choice_codes_must_be_unique() -> None:
    choices = [{"code": "1", "label": "A"}, {"code": "1", "label": "B"}]
    problem = only_problem(form({"name": "q", "type": "radio", "label": "Q", "choices": choices}))
    assert problem.path == "fields[0].choices[1].code"
    assert "already used by choices[0]" in problem.message


def test_checkbox_codes_must_not_share_an_export_column() -> None:
    choices = [{"code": "a.b", "label": "A"}, {"code": "a_b", "label": "B"}]
    problem = only_problem(form(checkbox(choices=choices)))
    assert "same column" in problem.message


def test_choice_labels_cannot_hold_a_pipe() -> None:
    choices = [{"code": "1", "label": "Left | right"}]
    problem = only_problem(form({"name": "q", "type": "radio", "label": "Q", "choices": choices}))
    assert "'|'" in problem.message


def test_yesno_takes_no_choices() -> None:
    problem = only_problem(form(yesno(choices=[{"code": "1", "label": "Yes"}])))
    assert "implicit" in problem.message


def test_show_if_syntax_errors_say_where() -> None:
    problem = only_problem(form(yesno(), integer(show_if="[mm_present] = ")))
    assert problem.path == "fields[1].show_if"
    assert "at character" in problem.message


def test_show_if_must_refer_to_known_fields() -> None:
    problem = only_problem(form(yesno(), integer(show_if="[mm_presnt] = '1'")))
    assert problem.path == "fields[1].show_if"
    assert "did you mean [mm_present]" in problem.message


def test_checkbox_references_must_name_a_real_code() -> None:
    problem = only_problem(form(checkbox(), integer(show_if="[regions(hand)] = '1'")))
    assert "'hand' is not a choice code of regions" in problem.message


def test_checkbox_references_must_name_a_code() -> None:
    problem = only_problem(form(checkbox(), integer(show_if="[regions] = '1'")))
    assert "[regions(distal)]" in problem.message


def test_options_belong_to_checkboxes_only() -> None:
    problem = only_problem(form(yesno(), integer(show_if="[mm_present(1)] = '1'")))
    assert "write [mm_present]" in problem.message


def test_logic_cannot_read_other_events_or_smart_variables() -> None:
    problems = problems_of(
        form(
            yesno(),
            integer("a", show_if="[visit_1][mm_present] = '1'"),
            integer("b", show_if="[record-name] <> ''"),
        )
    )
    messages = " ".join(problem.message for problem in problems)
    assert "another event or instance" in messages
    assert "smart variable" in messages


def test_logic_may_read_identifier_fields_which_are_always_blank() -> None:
    # A REDCap dictionary's branching often reads a field the registry does not collect; the
    # form imports and the logic sees a blank.
    from registry.formengine.validation import validate_submission

    initials = {"name": "initials", "type": "text", "label": "Initials", "identifier": True}
    schema = load_schema(form(initials, integer(show_if="[initials] = ''")))
    assert validate_submission(schema, {"age_months": "3"}).data == {"age_months": 3}


def test_calc_needs_a_calculation_and_only_calc_takes_one() -> None:
    problems = problems_of(
        form({"name": "total", "type": "calc", "label": "Total"}, integer(calc="1 + 1"))
    )
    assert {problem.path for problem in problems} == {"fields[0].calc", "fields[1].calc"}


def test_circular_dependencies_are_refused() -> None:
    problem = only_problem(
        form(
            {"name": "a", "type": "calc", "label": "A", "calc": "[b] + 1"},
            {"name": "b", "type": "calc", "label": "B", "calc": "[a] + 1"},
        )
    )
    assert "circle (a -> b -> a)" in problem.message


def test_slider_range_must_run_upwards() -> None:
    slider = {"name": "impact", "type": "slider", "label": "Impact", "min": 10, "max": 10}
    assert "run upwards" in only_problem(form(slider)).message


def test_slider_defaults_to_zero_to_hundred() -> None:
    schema = load_schema(form({"name": "impact", "type": "slider", "label": "Impact"}))
    field = schema.field("impact")
    assert (field.lower, field.upper) == (0, 100)


def test_renamed_from_cannot_name_itself_or_a_current_field() -> None:
    problems = problems_of(
        form(yesno(renamed_from="mm_present"), integer(renamed_from="mm_present"))
    )
    messages = [problem.message for problem in problems]
    assert any("names the field itself" in message for message in messages)
    assert any("still a field of this version" in message for message in messages)


def test_retired_names_cannot_still_be_fields() -> None:
    problem = only_problem(form(yesno(), retired=["mm_present"]))
    assert problem.path == "retired[0]"


def test_a_field_is_either_renamed_or_retired() -> None:
    problem = only_problem(form(yesno(renamed_from="old"), retired=["old"]))
    assert "either renamed or retired" in problem.message


def test_matrix_groups_share_type_and_choices() -> None:
    grade = {
        "type": "radio",
        "label": "Grade",
        "matrix_group": "grades",
        "choices": [{"code": "0", "label": "None"}, {"code": "1", "label": "Some"}],
    }
    other = copy.deepcopy(grade)
    other["choices"][1]["label"] = "A little"
    problem = only_problem(form({"name": "left", **grade}, {"name": "right", **other}))
    assert "same choices" in problem.message


def test_matrix_group_fields_follow_one_another() -> None:
    grade = {
        "type": "radio",
        "label": "Grade",
        "matrix_group": "grades",
        "choices": [{"code": "0", "label": "None"}],
    }
    problem = only_problem(form({"name": "left", **grade}, yesno(), {"name": "right", **grade}))
    assert "follow one another" in problem.message


def test_missing_codes_cannot_collide_with_choice_codes() -> None:
    problem = only_problem(form(yesno(), missing_codes=[{"code": "0", "label": "Not asked"}]))
    assert "also declared as missing codes" in problem.message


def test_annotation_codes_are_checked_per_system() -> None:
    problems = problems_of(
        form(
            yesno(annotations=[{"system": "HPO", "code": "HP:1335", "label": "x"}]),
            integer(annotations=[{"system": "OMIM", "code": "123", "label": "y"}]),
        )
    )
    messages = {problem.path: problem.message for problem in problems}
    assert "HP: and seven digits" in messages["fields[0].annotations[0].code"]
    assert "unknown system" in messages["fields[1].annotations[0].system"]


def test_limits_are_for_numeric_fields() -> None:
    problem = only_problem(form(yesno(limits={"min": 0})))
    assert "numeric fields only" in problem.message


def test_phi_screen_applies_to_free_text_only() -> None:
    problem = only_problem(form(integer(phi_screen=False)))
    assert "only free text" in problem.message


def test_free_text_is_screened_unless_opted_out() -> None:
    schema = load_schema(
        form(
            {"name": "findings", "type": "notes", "label": "Findings"},
            {"name": "symbol", "type": "text", "label": "Gene", "phi_screen": False},
            integer(),
        )
    )
    assert schema.field("findings").phi_screen is True
    assert schema.field("symbol").phi_screen is False
    assert schema.field("age_months").phi_screen is False


def test_checks_must_attach_to_a_data_field_and_parse() -> None:
    problems = problems_of(
        form(
            yesno(),
            checks=[
                {"field": "nope", "rule": "[mm_present] = '1'", "message": "Must be yes."},
                {"field": "mm_present", "rule": "[mm_present] = ", "message": "Must be yes."},
                {"field": "mm_present", "rule": "[ghost] = '1'", "message": "Must be yes."},
            ],
        )
    )
    paths = sorted(problem.path for problem in problems)
    assert paths == ["checks[0].field", "checks[1].rule", "checks[2].rule"]


def test_checks_are_kept_in_field_order() -> None:
    schema = load_schema(
        form(
            yesno("a"),
            yesno("b"),
            checks=[
                {"field": "b", "rule": "[b] = '1'", "message": "B must be yes."},
                {"field": "a", "rule": "[a] = '1'", "message": "A must be yes."},
            ],
        )
    )
    assert [check.field for check in schema.checks] == ["a", "b"]


def test_form_level_values_are_checked() -> None:
    problems = problems_of({"form": "Bad Form", "version": 0, "title": "", "fields": []})
    assert {problem.path for problem in problems} == {"form", "version", "title", "fields"}


def test_problems_read_as_sentences_with_their_place() -> None:
    problem = only_problem(form(yesno(requird=True)))
    assert str(problem).startswith("fields[0].requird (mm_present): unknown key")


def test_content_hash_ignores_key_order_and_spelled_out_defaults() -> None:
    plain = form(integer(), yesno())
    spelled = form(
        {**integer(), "required": False, "identifier": False, "min": 0.0},
        {"label": "Mirror movements present", "type": "yesno", "name": "mm_present"},
    )
    assert content_hash(load_schema(plain)) == content_hash(load_schema(spelled))
    assert content_hash(plain) == content_hash(copy.deepcopy(plain))


def test_content_hash_changes_with_meaning() -> None:
    before = load_schema(form(integer(), yesno()))
    after = load_schema(form(integer(max=1000), yesno()))
    assert content_hash(before) != content_hash(after)
    assert len(content_hash(before)) == 64
