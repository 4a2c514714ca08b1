"""REDCap data dictionaries in and out through management commands."""

import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from registry.crfs.models import FormDefinition, FormVersion
from registry.crfs.services import do_sync_forms, read_form_files

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
DICTIONARIES = ROOT / "tests" / "formengine" / "dictionaries"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def registry_forms():
    do_sync_forms(None, read_form_files(ROOT / "forms"))


def test_export_prints_redcaps_columns_and_every_form(registry_forms):
    rows = list(csv.DictReader(io.StringIO(run("export_dictionary"))))
    assert rows[0]["Variable / Field Name"] == "record_id"
    forms = {row["Form Name"] for row in rows}
    assert {"enrollment", "mirror_movements", "dysraphic_lesion", "surgery", "follow_up"} <= forms
    grade = next(row for row in rows if row["Variable / Field Name"] == "wt_grade_left_task")
    assert grade["Field Type"] == "radio"


def test_export_of_named_forms_only(registry_forms):
    rows = list(csv.DictReader(io.StringIO(run("export_dictionary", "surgery"))))
    assert {row["Form Name"] for row in rows} == {"surgery"}


def test_export_of_an_unknown_form_is_refused(registry_forms):
    with pytest.raises(CommandError, match="No published form named nosuch"):
        run("export_dictionary", "nosuch")


def test_exported_dictionary_imports_back_unchanged(registry_forms, tmp_path):
    exported = tmp_path / "registry.csv"
    exported.write_text(run("export_dictionary"), encoding="utf-8")
    versions = FormVersion.objects.count()
    output = run("import_dictionary", str(exported), "--forms-path", str(tmp_path / "forms"))
    assert "0 version(s) published" in output
    assert FormVersion.objects.count() == versions


def test_import_loads_new_forms_and_writes_them_as_files(tmp_path):
    forms_path = tmp_path / "forms"
    output = run(
        "import_dictionary",
        str(DICTIONARIES / "clinic_followup.csv"),
        "--repeatable",
        "visit",
        "--write-forms",
        "--forms-path",
        str(forms_path),
    )
    assert "published" in output
    written = sorted(p.relative_to(forms_path).as_posix() for p in forms_path.glob("*/v1.yaml"))
    assert written and written == sorted(
        f"{form.name}/v1.yaml" for form in FormDefinition.objects.all()
    )
    # The files written are forms like any other: syncing them again changes nothing.
    assert do_sync_forms(None, read_form_files(forms_path)).published == []


def test_a_changed_instrument_becomes_the_next_version(registry_forms, tmp_path):
    text = run("export_dictionary", "surgery").replace(
        "Age at surgery", "Age of the patient at surgery", 1
    )
    changed = tmp_path / "surgery.csv"
    changed.write_text(text, encoding="utf-8")
    assert "published surgery v2" in run(
        "import_dictionary", str(changed), "--forms-path", str(tmp_path)
    )
    assert FormDefinition.objects.get(name="surgery").repeatable


def test_a_bad_dictionary_names_row_and_column_and_loads_nothing():
    with pytest.raises(CommandError) as error:
        run("import_dictionary", str(DICTIONARIES / "bad_rows.csv"))
    assert "nothing was loaded" in str(error.value)
    assert "row " in str(error.value) and "column '" in str(error.value)
    assert not FormVersion.objects.exists()
