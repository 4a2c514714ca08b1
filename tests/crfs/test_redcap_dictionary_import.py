"""Real REDCap dictionaries published through import_dictionary, and exported back."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command

from bench.dictionary import generate
from registry.crfs.dictionaries import do_import_dictionary, export_dictionary
from registry.crfs.models import FormVersion
from registry.formengine.dictionary import COLUMNS

pytestmark = pytest.mark.django_db

PUBLIC = Path(__file__).resolve().parents[1] / "formengine" / "dictionaries" / "public"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_command_prints_the_import_report(tmp_path):
    output = run(
        "import_dictionary",
        str(PUBLIC / "redcapr_clinical_trial_1.csv"),
        "--forms-path",
        str(tmp_path),
    )
    assert "1 instrument(s), 11 field(s) besides the record ID 'record_id'; 6 not collected." in (
        output
    )
    assert (
        "row 13, column 'Variable / Field Name' (email): its name says it holds an e-mail address"
    ) in output
    assert "published demographics v1" in output


def test_a_published_public_dictionary_exports_as_it_came_and_imports_again_unchanged(tmp_path):
    original = (PUBLIC / "redcapr_checkboxes_1.csv").read_bytes()
    report = do_import_dictionary(None, original, forms_root=tmp_path)
    assert report.published == ["form_2 v1"]
    assert [(note.row, note.column) for note in report.notes] == [(2, "Form Name")]
    exported = export_dictionary()
    # The instrument that holds only the record ID is back, in its place.
    assert list(csv.reader(io.StringIO(exported))) == list(
        csv.reader(io.StringIO(original.decode("utf-8")))
    )
    versions = FormVersion.objects.count()
    again = do_import_dictionary(None, exported, forms_root=tmp_path)
    assert again.published == [] and FormVersion.objects.count() == versions


def test_the_record_id_of_an_imported_project_comes_back_on_export(tmp_path):
    text = (
        (PUBLIC / "redcapr_repeating_instruments.csv")
        .read_text(encoding="utf-8")
        .replace(
            'record_id,demographics,,text,"Record ID"', "subject_id,demographics,,text,Subject"
        )
    )
    do_import_dictionary(None, text, forms_root=tmp_path, keep_dates=True)
    rows = list(csv.DictReader(io.StringIO(export_dictionary())))
    assert (rows[0]["Variable / Field Name"], rows[0]["Field Label"]) == ("subject_id", "Subject")
    assert [row["Form Name"] for row in rows] == ["demographics"] * 8 + ["bp"] * 3


def test_a_5000_field_dictionary_is_published_whole(tmp_path):
    # Its speed is a figure of the benchmark suite (`bench.run --only dictionary`), not a test.
    report = do_import_dictionary(None, generate(), forms_root=tmp_path)
    assert len(report.published) == 25
    assert sum(len(version.schema["fields"]) for version in FormVersion.objects.all()) == 5000


def dictionary(*rows: tuple[str, str, str]) -> str:
    """A one-instrument dictionary ("visit") of text fields: (name, label, annotation)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for name, label, annotation in (("record_id", "Record ID", ""), *rows):
        row = dict.fromkeys(COLUMNS, "")
        row.update(
            {
                COLUMNS[0]: name,
                COLUMNS[1]: "visit",
                COLUMNS[3]: "text",
                COLUMNS[4]: label,
                COLUMNS[-1]: annotation,
            }
        )
        writer.writerow(row[column] for column in COLUMNS)
    return buffer.getvalue()


def test_an_edited_export_of_a_renamed_field_publishes_and_exports_again(tmp_path):
    do_import_dictionary(None, dictionary(("site_note", "Note", "")), forms_root=tmp_path)
    do_import_dictionary(
        None, dictionary(("visit_note", "Note", '@RENAMED-FROM="site_note"')), forms_root=tmp_path
    )
    exported = export_dictionary()
    assert '@RENAMED-FROM=""site_note""' in exported
    # The exported version 2 still says its field was renamed; sent back with a new field,
    # version 3 must not claim that rename again (site_note is no field of version 2).
    edited = exported + "visit_reason,visit,,text,Reason,,,,,,,,,,,,,\n"
    report = do_import_dictionary(None, edited, forms_root=tmp_path)
    assert report.published == ["visit v3"]
    latest = FormVersion.objects.get(form__name="visit", number=3)
    assert [
        f.get("renamed_from") for f in latest.schema["fields"] if f["name"] == "visit_note"
    ] == [None]
    rows = list(csv.DictReader(io.StringIO(export_dictionary())))
    assert [row["Variable / Field Name"] for row in rows] == [
        "record_id",
        "visit_note",
        "visit_reason",
    ]
