"""Reading a 5,000-field REDCap data dictionary, beside parsing the same CSV with `csv`.

Target (issue 16): importing a 5,000-field dictionary takes under 10 s. The figure is the
engine's part (`read_dictionary`: parsing, checking every field and compiling its logic into
schemas); publishing adds the database writes of `sync_forms`. No database is involved here.
"""

from __future__ import annotations

import csv
import io

from registry.formengine.dictionary import COLUMNS, METADATA_KEYS, read_dictionary

from .database import Scale
from .figures import Figure, median_seconds

FIELDS = 5_000
FORMS = 25
LIMIT_SECONDS = 10.0


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
        row.update(field_name=f"f_{index:05d}", form_name=f"form_{index // per_form:02d}",
                   field_label=f"Question {index}, with a comma | and a pipe")
        kind = (index % per_form) % 6
        if kind == 0:
            row.update(field_type="text", text_validation_type_or_show_slider_number="integer",
                       text_validation_min="0", text_validation_max="120")
        elif kind == 1:
            row.update(field_type="radio", select_choices_or_calculations="1, Yes | 0, No | "
                       "9, Unknown", branching_logic=f"[f_{index - 1:05d}] > 3")
        elif kind == 2:
            row.update(field_type="checkbox", select_choices_or_calculations="1, A | 2, B | "
                       "3, C | 99, None", field_annotation="@NONEOFTHEABOVE=99 see the SOP")
        elif kind == 3:
            row.update(field_type="calc", select_choices_or_calculations=f"[f_{index - 3:05d}] "
                       "* 2")
        elif kind == 4:
            row.update(field_type="notes", field_annotation="@CHARLIMIT=500 @HIDDEN-SURVEY")
        else:
            row.update(field_type="text", text_validation_type_or_show_slider_number=(
                "email" if index % 60 == 5 else "number"))
        writer.writerow([row[key] for key in METADATA_KEYS])
    return buffer.getvalue()


def measure(scale: Scale) -> list[Figure]:
    text = generate()
    imported = read_dictionary(text)
    assert sum(len(schema.fields) for schema in imported.schemas) == FIELDS
    seconds = median_seconds(lambda: read_dictionary(text), repeats=5)
    parse = median_seconds(lambda: list(csv.reader(io.StringIO(text))), repeats=5)
    label = f"{FIELDS:,} fields, {FORMS} instruments, {len(text) / 1e6:.1f} MB"
    return [
        Figure("Dictionary import, 5,000 fields (read_dictionary)", "s", round(seconds, 3),
               LIMIT_SECONDS, round(seconds / LIMIT_SECONDS, 3), "< 10 s",
               seconds < LIMIT_SECONDS, label),
        Figure("Parsing the same CSV with the csv module", "s", round(parse, 4),
               round(seconds, 3), round(parse / seconds, 3), "reported", True, label),
    ]
