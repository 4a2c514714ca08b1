from pathlib import Path

import yaml

from registry.formengine.compare import compare_versions, describe_effects
from registry.formengine.schema import load_schema

FORMS = Path(__file__).resolve().parents[2] / "forms"


def form(**changes: object) -> dict:
    base: dict = {
        "form": "visit",
        "version": 1,
        "title": "Visit",
        "fields": [
            {"name": "age", "type": "text", "label": "Age", "validation": "integer"},
            {
                "name": "grade",
                "type": "radio",
                "label": "Grade",
                "choices": [{"code": "0", "label": "None"}, {"code": "1", "label": "Mild"}],
            },
            {"name": "old_note", "type": "notes", "label": "Note"},
        ],
    }
    base.update(changes)
    return base


def test_identical_versions_differ_in_nothing():
    schema = load_schema(form())
    assert compare_versions(schema, load_schema(form(version=2))).is_empty


def test_added_removed_renamed_and_changed_fields_are_named():
    old = load_schema(form())
    new = load_schema(
        form(
            version=2,
            retired=["old_note"],
            fields=[
                {
                    "name": "age_months",
                    "type": "text",
                    "label": "Age (months)",
                    "validation": "integer",
                    "renamed_from": "age",
                },
                {
                    "name": "grade",
                    "type": "dropdown",
                    "label": "Grade",
                    "choices": [{"code": "0", "label": "Absent"}, {"code": "2", "label": "Strong"}],
                },
                {
                    "name": "side",
                    "type": "radio",
                    "label": "Side",
                    "choices": [{"code": "l", "label": "Left"}, {"code": "r", "label": "Right"}],
                },
            ],
        )
    )
    diff = compare_versions(old, new)
    assert diff.added == ("side",)
    assert diff.removed == ("old_note",)
    assert diff.renamed == (("age", "age_months"),)
    changes = {change.name: change.changes for change in diff.changed}
    assert changes["age_months"] == ("label: 'Age' → 'Age (months)'",)
    assert changes["grade"] == (
        "type: 'radio' → 'dropdown'",
        "choice 0 relabelled: 'None' → 'Absent'",
        "choice added: 2 (Strong)",
        "choice removed: 1 (Mild)",
    )


def test_the_registry_mirror_movements_versions_line_up():
    v1, v2 = (
        load_schema(yaml.safe_load((FORMS / "mirror_movements" / f"v{n}.yaml").read_text()))
        for n in (1, 2)
    )
    diff = compare_versions(v1, v2)
    assert ("wt_grade", "wt_grade_left_task") in diff.renamed
    assert "wt_grade_right_task" in diff.added
    assert "wt_grade" not in diff.removed


def test_each_change_says_what_it_does_to_existing_submissions():
    old = load_schema(form())
    new = load_schema(
        form(
            version=2,
            fields=[
                {
                    "name": "age_months",
                    "type": "text",
                    "label": "Age",
                    "validation": "integer",
                    "renamed_from": "age",
                },
                {
                    "name": "grade",
                    "type": "dropdown",
                    "label": "Grade",
                    "choices": [{"code": "0", "label": "Absent"}, {"code": "2", "label": "Strong"}],
                },
                {
                    "name": "side",
                    "type": "radio",
                    "label": "Side",
                    "choices": [{"code": "l", "label": "Left"}, {"code": "r", "label": "Right"}],
                },
            ],
        )
    )
    effects = {(effect.field, effect.change): effect for effect in describe_effects(old, new)}
    assert set(effects) == {
        ("side", "added"),
        ("old_note", "removed"),
        ("age_months", "renamed"),
        ("grade", "changed type"),
        ("grade", "choice relabelled"),
        ("grade", "choice added"),
        ("grade", "choice removed"),
    }
    assert "no answer for it" in effects["side", "added"].effect
    assert effects["old_note", "removed"].detail == "not listed in retired"
    assert "warn that it was dropped" in effects["old_note", "removed"].effect
    assert "show them under age_months" in effects["age_months", "renamed"].effect
    assert effects["grade", "changed type"].detail == "radio → dropdown"
    assert "not converted" in effects["grade", "changed type"].effect
    assert "new label for all of them" in effects["grade", "choice relabelled"].effect
    assert effects["grade", "choice removed"].detail == "1 (Mild)"
    assert "still shown as 'Mild'" in effects["grade", "choice removed"].effect


def test_form_level_changes_have_effects_too():
    effects = describe_effects(
        load_schema(form()), load_schema(form(version=2, title="Clinic visit", repeatable=True))
    )
    assert [(effect.field, effect.change) for effect in effects] == [
        ("", "title changed"),
        ("", "now repeatable"),
    ]
    assert describe_effects(load_schema(form()), load_schema(form(version=2))) == ()
