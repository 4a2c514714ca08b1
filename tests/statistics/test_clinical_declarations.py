"""The clinical tables read their forms and fields from forms/statistics.yaml: the same numbers
as when the names were written in the code, and a version that renames or drops a field a
table (or a quality rule) reads is refused with the table (or rule) and the field named."""

import io
import json
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from registry.crfs.models import FormVersion
from registry.crfs.services import FormSyncError, do_sync_forms, read_form_files
from registry.statistics.catalogue import form_catalogue
from registry.statistics.checks import statistics_file
from registry.statistics.clinical import StatisticsFileError, load_statistics_file
from registry.statistics.services import compute_statistics

pytestmark = pytest.mark.django_db

FORMS = Path(__file__).resolve().parents[2] / "forms"
# The clinical tables of the demo data (`make run`: the index cases and 60 synthetic patients
# of a fixed seed), as the code computed them when it named the forms and fields itself.
BEFORE = Path(__file__).with_name("demo_clinical_tables.json")


def load_demo() -> None:
    call_command("sync_forms", stdout=io.StringIO())
    call_command("load_demo", stdout=io.StringIO())


def test_the_clinical_tables_give_the_numbers_they_gave_before_on_the_demo_data():
    load_demo()
    results, _ = compute_statistics()
    assert [table["key"] for table in results["clinical"]] == [
        "mm_by_lesion_type",
        "mm_by_lesion_level",
        "wt_grade_by_lesion_type",
        "mm_at_follow_up_by_procedure",
        "age_at_onset",
    ]
    assert results["clinical"] == json.loads(BEFORE.read_text())


def copy_forms(tmp_path: Path) -> Path:
    root = tmp_path / "forms"
    for path in FORMS.glob("*/v*.yaml"):
        (root / path.parent.name).mkdir(parents=True, exist_ok=True)
        (root / path.parent.name / path.name).write_text(path.read_text())
    return root


def next_version(root: Path, form: str, change) -> None:
    versions = sorted(root.glob(f"{form}/v*.yaml"), key=lambda p: int(p.stem[1:]))
    schema = yaml.safe_load(versions[-1].read_text())
    schema["version"] += 1
    change(schema["fields"])
    (root / form / f"v{schema['version']}.yaml").write_text(yaml.safe_dump(schema))


def refusal(root: Path) -> str:
    with pytest.raises(FormSyncError) as refused:
        do_sync_forms(None, read_form_files(root))
    return "\n".join(refused.value.problems)


def test_a_version_renaming_a_field_a_table_and_a_rule_read_is_refused_naming_both(tmp_path):
    do_sync_forms(None, read_form_files(FORMS))
    root = copy_forms(tmp_path)

    def rename(fields):
        field = next(f for f in fields if f["name"] == "lesion_level")
        field["name"], field["renamed_from"] = "lesion_segment", "lesion_level"

    next_version(root, "dysraphic_lesion", rename)
    problems = refusal(root)
    assert (
        "statistics.yaml tables[1] (mm_by_lesion_level): lesion reads "
        "dysraphic_lesion.lesion_level, which is not a field of dysraphic_lesion v2 "
        "(renamed lesion_segment in v2: name it dysraphic_lesion.lesion_segment)"
    ) in problems
    assert (
        "quality_rules.yaml rules[1] (mmc_level_outside_cervical): 'lesion_level' is not a "
        "field of dysraphic_lesion"
    ) in problems
    # The tables reading fields the version kept are not blamed.
    assert "mm_by_lesion_type" not in problems
    assert not FormVersion.objects.filter(form__name="dysraphic_lesion", number=2).exists()


def test_a_version_dropping_a_field_a_table_reads_is_refused(tmp_path):
    do_sync_forms(None, read_form_files(FORMS))
    root = copy_forms(tmp_path)
    next_version(
        root,
        "surgery",
        lambda fields: fields.remove(next(f for f in fields if f["name"] == "surg_age_days")),
    )
    problems = refusal(root)
    assert (
        "statistics.yaml tables[3] (mm_at_follow_up_by_procedure): surgery_age_days reads "
        "surgery.surg_age_days, which surgery v2 no longer has"
    ) in problems
    assert not FormVersion.objects.filter(form__name="surgery", number=2).exists()


def test_a_version_keeping_the_fields_is_published(tmp_path):
    do_sync_forms(None, read_form_files(FORMS))
    root = copy_forms(tmp_path)
    next_version(root, "surgery", lambda fields: fields[0].update(label="Age at the operation"))
    report = do_sync_forms(None, read_form_files(root))
    assert report.published == ["surgery v2"]


def write_file(tmp_path: Path, tables: list[dict]) -> Path:
    path = tmp_path / "statistics.yaml"
    path.write_text(yaml.safe_dump({"tables": tables}))
    return path


def test_a_field_of_the_wrong_type_is_named(tmp_path, forms):
    path = write_file(
        tmp_path,
        [
            {
                "key": "mm_by_sex",
                "kind": "status_by_lesion",
                "title": "By lesion",
                "lesion": "dysraphic_lesion.lesion_type",
                "status": "mirror_movements.mm_age_months",
            }
        ],
    )
    harmonised = {name: info.harmonisation for name, info in form_catalogue().items()}
    with pytest.raises(StatisticsFileError) as refused:
        load_statistics_file(harmonised, path)
    assert refused.value.problems == [
        "statistics.yaml tables[0] (mm_by_sex): status reads mirror_movements.mm_age_months, "
        "which is a text field; a status_by_lesion table needs a yes/no field there"
    ]


def test_a_statistics_run_refuses_a_file_naming_a_field_no_form_has(tmp_path, settings, forms):
    settings.STATISTICS_FILE = write_file(
        tmp_path,
        [
            {
                "key": "age_at_onset",
                "kind": "age_at_onset",
                "title": "Onset",
                "onset_months": "mirror_movements.onset_age",
                "since_early_childhood": "mirror_movements.onset_early_childhood",
            }
        ],
    )
    with pytest.raises(
        StatisticsFileError,
        match=r"onset_months reads mirror_movements\."
        r"onset_age, which is not a field of mirror_movements v2 \(did you mean "
        r"onset_age_months\?\)",
    ):
        compute_statistics()


def test_a_table_of_forms_not_yet_published_is_left_out(tmp_path, db):
    assert load_statistics_file({}, FORMS / "statistics.yaml") == []


def test_the_start_up_check_names_what_is_wrong_with_the_file(tmp_path, settings):
    settings.STATISTICS_FILE = write_file(
        tmp_path,
        [
            {
                "key": "by_lesion",
                "kind": "status_by_lesion",
                "title": "By lesion",
                "lesion": "dysraphic_lesion.lesion_type",
            },
            {"key": "onset", "kind": "onset_table", "title": "Onset"},
            {
                "key": "grades",
                "kind": "highest_grade_by_lesion",
                "title": "Grades",
                "lesion": "dysraphic_lesion.lesion_type",
                "grades": ["mirror_movements.wt_grade_left_task", "follow_up.fu_grade"],
            },
        ],
    )
    assert [error.msg for error in statistics_file()] == [
        "statistics.yaml tables[0] (by_lesion): status missing",
        "statistics.yaml tables[1] (onset): kind 'onset_table' is not one of status_by_lesion, "
        "highest_grade_by_lesion, status_after_procedure, age_at_onset",
        "statistics.yaml tables[2] (grades): grades must be fields of one form, not follow_up "
        "and mirror_movements",
    ]
    settings.STATISTICS_FILE = FORMS / "statistics.yaml"
    assert statistics_file() == []
