"""Real REDCap dictionaries published through import_dictionary, and exported back."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from bench.dictionary import generate
from registry.crfs.dictionaries import do_import_dictionary, export_dictionary
from registry.crfs.models import FormVersion

pytestmark = pytest.mark.django_db

PUBLIC = Path(__file__).resolve().parents[1] / "formengine" / "dictionaries" / "public"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_command_prints_the_import_report(tmp_path):
    output = run("import_dictionary", str(PUBLIC / "redcapr_clinical_trial_1.csv"),
                 "--forms-path", str(tmp_path))
    assert "1 instrument(s), 11 field(s) besides the record ID 'record_id'; 6 not collected." in (
        output)
    assert ("row 13, column 'Variable / Field Name' (email): its name says it holds an e-mail "
            "address") in output
    assert "published demographics v1" in output


def test_a_published_public_dictionary_exports_as_it_came_and_imports_again_unchanged(tmp_path):
    original = (PUBLIC / "redcapr_checkboxes_1.csv").read_bytes()
    report = do_import_dictionary(None, original, forms_root=tmp_path)
    assert report.published == ["form_2 v1"]
    assert [(note.row, note.column) for note in report.notes] == [(2, "Form Name")]
    exported = export_dictionary()
    # The instrument that holds only the record ID is back, in its place.
    assert list(csv.reader(io.StringIO(exported))) == list(
        csv.reader(io.StringIO(original.decode("utf-8"))))
    versions = FormVersion.objects.count()
    again = do_import_dictionary(None, exported, forms_root=tmp_path)
    assert again.published == [] and FormVersion.objects.count() == versions


def test_the_record_id_of_an_imported_project_comes_back_on_export(tmp_path):
    text = (PUBLIC / "redcapr_repeating_instruments.csv").read_text(encoding="utf-8").replace(
        'record_id,demographics,,text,"Record ID"', "subject_id,demographics,,text,Subject")
    do_import_dictionary(None, text, forms_root=tmp_path, keep_dates=True)
    rows = list(csv.DictReader(io.StringIO(export_dictionary())))
    assert (rows[0]["Variable / Field Name"], rows[0]["Field Label"]) == ("subject_id", "Subject")
    assert [row["Form Name"] for row in rows] == ["demographics"] * 8 + ["bp"] * 3


def test_a_5000_field_dictionary_is_read_and_published_in_under_ten_seconds(tmp_path):
    text = generate()
    started = time.perf_counter()
    report = do_import_dictionary(None, text, forms_root=tmp_path)
    seconds = time.perf_counter() - started
    assert len(report.published) == 25
    assert sum(len(version.schema["fields"]) for version in FormVersion.objects.all()) == 5000
    assert seconds < 10, f"{seconds:.1f} s"
