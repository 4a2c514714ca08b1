"""Reading and publishing a 5,000-field REDCap data dictionary, beside parsing the same CSV.

Target (issue 16): importing a 5,000-field dictionary takes under 10 s. Two figures:

- reading it (`read_dictionary`: parsing, checking every field and compiling its logic into
  schemas; no database);
- reading *and publishing* it (`do_import_dictionary`, the path of `manage.py
  import_dictionary`: the read above, then `do_sync_forms` checking each instrument as a form
  file and writing its 25 new form versions and their audit events), on PostgreSQL in a
  database of its own (`registry_bench_dictionary`, migrated and holding the registry's forms);
  each round runs in a transaction that is rolled back, so every round publishes the same new
  versions into the same database.

`csv.reader` on the same text is reported beside both: what the file costs to parse at all.
The three are timed in turn within each round (alternating_median_seconds).
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable
from pathlib import Path

from registry.formengine.dictionary import COLUMNS, METADATA_KEYS, read_dictionary

from .database import Scale, configure_django
from .figures import Figure, alternating_median_seconds

FIELDS = 5_000
FORMS = 25
LIMIT_SECONDS = 10.0
ROUNDS = 3
DATABASE = Scale("dictionary", 0)
"""The publish figure's database: the registry's forms and no patient data."""


def generate(fields: int = FIELDS, forms: int = FORMS) -> str:
    """A dictionary of `fields` fields over `forms` instruments, shaped like real ones: labels
    with commas and pipes, choices, branching, calculations, action tags, free-text notes in
    the annotation, and a few identifier validations (reported as not collected)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerow(["record_id", "form_00", "", "text", "Record ID", *[""] * 13])
    per_form = fields // forms
    for index in range(fields):
        row = dict.fromkeys(METADATA_KEYS, "")
        row.update(
            field_name=f"f_{index:05d}",
            form_name=f"form_{index // per_form:02d}",
            field_label=f"Question {index}, with a comma | and a pipe",
        )
        kind = (index % per_form) % 6
        if kind == 0:
            row.update(
                field_type="text",
                text_validation_type_or_show_slider_number="integer",
                text_validation_min="0",
                text_validation_max="120",
            )
        elif kind == 1:
            row.update(
                field_type="radio",
                select_choices_or_calculations="1, Yes | 0, No | 9, Unknown",
                branching_logic=f"[f_{index - 1:05d}] > 3",
            )
        elif kind == 2:
            row.update(
                field_type="checkbox",
                select_choices_or_calculations="1, A | 2, B | 3, C | 99, None",
                field_annotation="@NONEOFTHEABOVE=99 see the SOP",
            )
        elif kind == 3:
            row.update(field_type="calc", select_choices_or_calculations=f"[f_{index - 3:05d}] * 2")
        elif kind == 4:
            row.update(field_type="notes", field_annotation="@CHARLIMIT=500 @HIDDEN-SURVEY")
        else:
            row.update(
                field_type="text",
                text_validation_type_or_show_slider_number=(
                    "email" if index % 60 == 5 else "number"
                ),
            )
        writer.writerow([row[key] for key in METADATA_KEYS])
    return buffer.getvalue()


def measure(scale: Scale) -> list[Figure]:
    text = generate()
    imported = read_dictionary(text)
    assert sum(len(schema.fields) for schema in imported.schemas) == FIELDS
    configure_django(DATABASE)
    publish = _publisher(text)
    publish()  # a first round, which must publish every instrument
    seconds = alternating_median_seconds(
        {
            "read": lambda: read_dictionary(text),
            "publish": publish,
            "csv": lambda: list(csv.reader(io.StringIO(text))),
        },
        rounds=ROUNDS,
    )
    read, published, parse = seconds["read"], seconds["publish"], seconds["csv"]
    label = f"{FIELDS:,} fields, {FORMS} instruments, {len(text) / 1e6:.1f} MB; {ROUNDS} rounds"
    return [
        Figure(
            "Dictionary import, 5,000 fields (read_dictionary)",
            "s",
            round(read, 3),
            LIMIT_SECONDS,
            round(read / LIMIT_SECONDS, 3),
            "< 10 s",
            read < LIMIT_SECONDS,
            label,
        ),
        Figure(
            "Dictionary read and publish, 5,000 fields (do_import_dictionary, PostgreSQL)",
            "s",
            round(published, 3),
            LIMIT_SECONDS,
            round(published / LIMIT_SECONDS, 3),
            "< 10 s",
            published < LIMIT_SECONDS,
            label,
        ),
        Figure(
            "Parsing the same CSV with the csv module",
            "s",
            round(parse, 4),
            round(published, 3),
            round(parse / published, 3),
            "reported",
            True,
            label,
        ),
    ]


def _publisher(text: str) -> Callable[[], None]:
    from django.db import transaction

    from registry.crfs.dictionaries import do_import_dictionary

    forms_root = Path(tempfile.mkdtemp(prefix="bench-dictionary-"))

    def publish() -> None:
        with transaction.atomic():
            report = do_import_dictionary(None, text, forms_root=forms_root)
            assert len(report.published) == FORMS, report.published
            # Every round publishes the same versions anew: none of it is kept.
            transaction.set_rollback(True)

    return publish
