"""The identifier screen (registry/formengine/phi.py) on its test set, and its speed.

Recall per kind of identifier and false alarms on the clinical notes are counted over the
whole set (tests/formengine/phi_set/notes.json, synthetic; the tests assert the same on a fixed
subset), and again on the held-out set (tests/formengine/phi_heldout/notes.json), written apart
from the screen. Targets (issue 15): recall >= 0.95 per kind, no false alarm on the clinical notes;
screening a 2,000-character note under 2 ms and a 20,000-character one under 20 ms, with the
names lists loaded once per process; validation of the largest form with every free-text field
filled under 1 ms. The timed notes are clinical notes of the set joined to length: clean text
is the common case, and it is the one read to the end. No database is involved.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from registry.formengine.phi import screen_free_text
from registry.formengine.validation import validate_submission

from .database import Scale
from .figures import Figure, median_seconds
from .validation import fullest_index_case_data, largest_form

NOTES = Path(__file__).resolve().parent.parent / "tests" / "formengine" / "phi_set" / "notes.json"
# Written apart from the screen (tests/formengine/phi_heldout/build.py): the fairer judge.
HELD_OUT = NOTES.parent.parent / "phi_heldout" / "notes.json"


def _figure(figure: str, unit: str, value: float, limit: float, target: str, met: bool) -> Figure:
    return Figure(
        figure=figure,
        unit=unit,
        value=round(value, 3),
        limit=limit,
        ratio=round(value / limit, 3) if limit else float(value),
        target=target,
        met=met,
        scale="n/a",
    )


def _clinical_text(clinical: list[str], length: int) -> str:
    pieces: list[str] = []
    size = 0
    while size < length:
        piece = clinical[len(pieces) % len(clinical)]
        pieces.append(piece)
        size += len(piece) + 1
    return " ".join(pieces)[:length]


def _set_figures(path: Path, name: str) -> list[Figure]:
    """Recall per kind and false alarms on the clinical notes of one note set."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for note in json.loads(path.read_text(encoding="utf-8")):
        by_kind[note["kind"]].append(note["text"])
    figures = []
    for kind in sorted(set(by_kind) - {"clinical"}):
        texts = by_kind[kind]
        recall = sum(1 for text in texts if screen_free_text(text)) / len(texts)
        figures.append(
            _figure(
                f"{name} recall, {kind} ({len(texts)} notes)",
                "fraction caught",
                recall,
                0.95,
                ">= 0.95",
                recall >= 0.95,
            )
        )
    clinical = by_kind["clinical"]
    alarms = sum(1 for text in clinical if screen_free_text(text))
    figures.append(
        _figure(
            f"{name} false alarms, clinical ({len(clinical)} notes)",
            "notes refused",
            alarms,
            0,
            "0",
            alarms == 0,
        )
    )
    return figures


def measure(scale: Scale) -> list[Figure]:
    figures = _set_figures(NOTES, "identifier screen")
    figures.extend(_set_figures(HELD_OUT, "held-out"))
    clinical = [
        note["text"]
        for note in json.loads(NOTES.read_text(encoding="utf-8"))
        if note["kind"] == "clinical"
    ]

    for length, limit in ((2_000, 2.0), (20_000, 20.0)):
        text = _clinical_text(clinical, length)
        assert not screen_free_text(text), "the timed note must be clinical text"
        ms = (
            median_seconds(
                lambda text=text: screen_free_text(text),
                repeats=15,
                inner=max(1, 200_000 // length),
            )
            * 1000
        )
        figures.append(
            _figure(
                f"identifier screen, {length:,}-character clinical note",
                "ms",
                ms,
                limit,
                f"< {limit:g} ms",
                ms < limit,
            )
        )

    schema = largest_form()
    data = dict(fullest_index_case_data(schema))
    hidden = validate_submission(schema, data).hidden
    free = [f for f in schema.fields if f.phi_screen and f.stores_data and f.name not in hidden]
    for number, f in enumerate(free):
        # Distinct texts over 200 characters, so the screen's memory of clean texts is no help.
        data[f.name] = _clinical_text(clinical[number:] + clinical[:number], 400)
    errors = validate_submission(schema, data).errors
    assert not errors, f"the benchmark data must be valid: {errors}"
    micro = median_seconds(lambda: validate_submission(schema, data), repeats=15, inner=200) * 1e6
    figures.append(
        _figure(
            f"validation, largest form with its {len(free)} free-text fields filled (400 chars)",
            "µs per submission",
            micro,
            1000.0,
            "< 1 ms",
            micro < 1000.0,
        )
    )
    return figures
