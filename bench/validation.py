"""Form-engine validation of one submission of the registry's largest form.

Target (issue: form engine): under 1 ms per submission. No database is involved: the engine is
plain Python, so this runs anywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from registry.formengine.schema import FormSchema, load_schema
from registry.formengine.validation import validate_submission

from .database import Scale
from .figures import Figure, median_seconds

FORMS = Path(__file__).resolve().parent.parent / "forms"
LIMIT_MICROSECONDS = 1000.0


def largest_form() -> FormSchema:
    schemas = [
        load_schema(yaml.safe_load(path.read_text(encoding="utf-8")))
        for path in sorted(FORMS.glob("*/v*.yaml"))
    ]
    return max(schemas, key=lambda schema: len(schema.fields))


def fullest_index_case_data(schema: FormSchema) -> dict[str, Any]:
    """The index-case submission of that form with the most answers: realistic branching."""
    cases = yaml.safe_load((FORMS / "fixtures" / "index_cases.yaml").read_text(encoding="utf-8"))
    entries = [
        entry["data"]
        for case in cases
        for entry in case["submissions"]
        if entry["form"] == schema.form and entry["version"] == schema.version
    ]
    return max(entries, key=len)


def measure(scale: Scale) -> list[Figure]:
    schema = largest_form()
    data = fullest_index_case_data(schema)
    assert not validate_submission(schema, data).errors, "the benchmark data must be valid"
    seconds = median_seconds(lambda: validate_submission(schema, data), repeats=15, inner=2000)
    micro = seconds * 1e6
    return [
        Figure(
            figure=f"validation, largest form ({schema.form} v{schema.version}, "
            f"{len(schema.fields)} fields)",
            unit="µs per submission",
            value=round(micro, 1),
            limit=LIMIT_MICROSECONDS,
            ratio=round(micro / LIMIT_MICROSECONDS, 3),
            target="< 1 ms",
            met=micro < LIMIT_MICROSECONDS,
            scale="n/a",
        )
    ]
