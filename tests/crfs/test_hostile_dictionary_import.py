"""import_dictionary refuses a hostile dictionary by row and column, and loads nothing."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from registry.audit.models import AuditEvent
from registry.crfs.models import FormDefinition, FormVersion
from registry.formengine.dictionary import COLUMNS

pytestmark = pytest.mark.django_db

DICTIONARY = (
    Path(__file__).resolve().parents[1] / "formengine" / "dictionaries" / "clinic_followup.csv"
)
BRANCHING = COLUMNS.index("Branching Logic (Show field only if...)")


def with_cell(column: int, value: str) -> str:
    rows = list(csv.reader(io.StringIO(DICTIONARY.read_text(encoding="utf-8-sig"), newline="")))
    rows[3][column] = value
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "cell",
    [
        "[age] = '1' and " * 70_000 + "[age] = '1'",
        "(" * 100_000 + "1" + ")" * 100_000,
        "[age]\x00 = '1'",
        "2^" * 3000 + "1",
    ],
    ids=["1 MB rule", "rule nested 100,000 deep", "NUL byte", "3,000 powers"],
)
def test_a_hostile_dictionary_is_refused_by_row_and_column_and_nothing_loaded(tmp_path, cell):
    path = tmp_path / "hostile.csv"
    path.write_text(with_cell(BRANCHING, cell), encoding="utf-8")
    with pytest.raises(CommandError) as raised:
        call_command(
            "import_dictionary", str(path), "--forms-path", str(tmp_path), stdout=io.StringIO()
        )
    message = str(raised.value)
    assert "nothing was loaded" in message
    assert "row 4, column 'Branching Logic (Show field only if...)'" in message
    assert len(message) < 2000
    assert not FormDefinition.objects.exists() and not FormVersion.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(DICTIONARY.read_bytes() + b"\xff\xfe")
    with pytest.raises(CommandError, match="UTF-8"):
        call_command("import_dictionary", str(path), stdout=io.StringIO())
    assert not FormDefinition.objects.exists()
