"""Lining up the versions of a form (registry/formengine/harmonise.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from registry.formengine.harmonise import HarmonisationError, harmonise
from registry.formengine.schema import FormSchema, load_schema

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"


def version(number: int, *fields: dict[str, Any], **top: Any) -> FormSchema:
    return load_schema(
        {
            "form": "assessment",
            "version": number,
            "title": "Assessment",
            "repeatable": True,
            "fields": list(fields),
            **top,
        }
    )


def text(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": "text", "label": name.replace("_", " ").capitalize(), **extra}


def grade(name: str, **extra: Any) -> dict[str, Any]:
    choices = [{"code": str(n), "label": f"Grade {n}"} for n in range(5)]
    return {"name": name, "type": "radio", "label": "Grade", "choices": choices, **extra}


V1 = version(1, text("age"), grade("wt_grade"), text("old_note"), text("comment"))
V2 = version(
    2,
    text("age"),
    grade("wt_grade_left", renamed_from="wt_grade"),
    grade("wt_grade_right"),
    text("comment"),
    retired=["old_note"],
)
V3 = version(
    3,
    text("age_months", renamed_from="age"),
    grade("wt_grade_left"),
    grade("wt_grade_right"),
    retired=["comment"],
)


def test_fields_follow_the_latest_version_then_the_retired_ones() -> None:
    result = harmonise([V3, V1, V2])
    assert result.versions == (1, 2, 3)
    assert result.field_names == (
        "age_months",
        "wt_grade_left",
        "wt_grade_right",
        "comment",
        "old_note",
    )
    assert [f.retired for f in result.fields] == [False, False, False, True, True]


def test_each_field_knows_its_name_in_every_version() -> None:
    result = harmonise([V1, V2, V3])
    names = {f.name: dict(f.names) for f in result.fields}
    assert names["age_months"] == {1: "age", 2: "age", 3: "age_months"}
    assert names["wt_grade_left"] == {1: "wt_grade", 2: "wt_grade_left", 3: "wt_grade_left"}
    assert names["wt_grade_right"] == {2: "wt_grade_right", 3: "wt_grade_right"}
    assert names["old_note"] == {1: "old_note"}


def test_data_of_an_old_version_maps_onto_the_harmonised_names() -> None:
    result = harmonise([V1, V2, V3])
    mapped = result.map_data(1, {"wt_grade": "3", "age": "36", "old_note": "x"})
    assert mapped == {"age_months": "36", "wt_grade_left": "3", "old_note": "x"}
    assert list(mapped) == ["age_months", "wt_grade_left", "old_note"]
    assert result.map_data(3, {"age_months": "40"}) == {"age_months": "40"}


def test_keys_the_version_does_not_have_are_an_error() -> None:
    result = harmonise([V1, V2])
    with pytest.raises(
        HarmonisationError, match="wt_grade_left is not a field of assessment version 1"
    ):
        result.map_data(1, {"wt_grade_left": "3"})


def test_an_unknown_version_is_an_error() -> None:
    with pytest.raises(HarmonisationError, match="version 7"):
        harmonise([V1]).map_data(7, {})


def test_the_latest_definition_describes_the_field() -> None:
    result = harmonise([V1, V3])
    assert result.fields[0].field.label == "Age months"


def test_a_field_that_comes_back_is_the_same_field() -> None:
    v2 = version(2, text("age"), retired=["comment"])
    v3 = version(3, text("age"), text("comment"))
    result = harmonise([version(1, text("age"), text("comment")), v2, v3])
    comment = next(f for f in result.fields if f.name == "comment")
    assert dict(comment.names) == {1: "comment", 3: "comment"}
    assert result.field_names == ("age", "comment")


def test_a_renamed_fields_old_name_can_be_taken_by_a_new_field() -> None:
    v2 = version(2, text("age_months", renamed_from="age"))
    v3 = version(3, text("age_months"), text("age"))
    result = harmonise([version(1, text("age")), v2, v3])
    assert {f.name: dict(f.names) for f in result.fields} == {
        "age_months": {1: "age", 2: "age_months", 3: "age_months"},
        "age": {3: "age"},
    }


def test_a_retired_field_whose_name_was_reused_keeps_its_data_apart() -> None:
    v1 = version(1, text("age"), text("score"))
    v2 = version(2, text("age"), retired=["score"])
    v3 = version(3, text("score", renamed_from="age"))
    result = harmonise([v1, v2, v3])
    assert result.field_names == ("score", "score__v1")
    assert result.map_data(1, {"age": "3", "score": "9"}) == {"score": "3", "score__v1": "9"}


def test_a_rename_must_point_at_the_previous_version() -> None:
    v2 = version(2, text("age_months", renamed_from="age_in_months"))
    with pytest.raises(HarmonisationError, match="'age_in_months', which is not a field of v1"):
        harmonise([version(1, text("age")), v2])


def test_versions_must_be_of_one_form_and_distinct() -> None:
    other = load_schema({"form": "surgery", "version": 2, "title": "S", "fields": [text("age")]})
    with pytest.raises(HarmonisationError, match="different forms"):
        harmonise([V1, other])
    with pytest.raises(HarmonisationError, match="more than once"):
        harmonise([V1, V1])
    with pytest.raises(HarmonisationError):
        harmonise([])


def test_silent_drops_and_changed_types_are_warned_about() -> None:
    v2 = version(
        2,
        {**text("age"), "validation": "integer"},
        grade("wt_grade", choices=[{"code": "0", "label": "None"}, {"code": "1", "label": "Some"}]),
    )
    warnings = harmonise([V1, v2]).warnings
    assert any("drops old_note without listing it in retired" in w for w in warnings)
    assert any("type changes from text to text (integer)" in w for w in warnings)
    assert any("codes no longer offered: 2, 3, 4" in w for w in warnings)


def test_the_registry_mirror_movements_versions_line_up() -> None:
    versions = [
        load_schema(yaml.safe_load(path.read_text(encoding="utf-8")))
        for path in sorted((FORMS_DIR / "mirror_movements").glob("v*.yaml"))
    ]
    result = harmonise(versions)
    left = next(f for f in result.fields if f.name == "wt_grade_left_task")
    assert dict(left.names) == {1: "wt_grade", 2: "wt_grade_left_task"}
    assert result.map_data(1, {"wt_grade": "2"}) == {"wt_grade_left_task": "2"}
