# ruff: noqa: RUF001
"""The identifier screen on its test set (phi_set/notes.json, built by phi_set/build.py), and
its running time on long hostile text."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.formengine.phi import screen_free_text

NOTES = json.loads((Path(__file__).parent / "phi_set" / "notes.json").read_text("utf-8"))
# A fixed subset: every third note, so every kind and every template is represented.
SUBSET = NOTES[::3]
KINDS = sorted({note["kind"] for note in NOTES} - {"clinical"})


def _by_kind(notes: list[dict[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for note in notes:
        grouped[note["kind"]].append(note["text"])
    return grouped


@pytest.mark.parametrize("kind", KINDS)
def test_recall_on_each_kind_of_identifier_is_at_least_095(kind):
    texts = _by_kind(SUBSET)[kind]
    caught = sum(1 for text in texts if screen_free_text(text))
    assert texts and caught / len(texts) >= 0.95, f"{kind}: {caught} of {len(texts)}"


def test_no_false_alarm_on_clinical_notes():
    alarms = [text for text in _by_kind(SUBSET)["clinical"] if screen_free_text(text)]
    assert alarms == []


def test_the_set_has_200_identifying_and_200_clinical_notes_in_english_and_persian():
    grouped = _by_kind(NOTES)
    assert sum(len(grouped[kind]) for kind in KINDS) >= 200 and len(grouped["clinical"]) >= 200
    persian = [
        t
        for t in grouped["clinical"] + grouped["name"]
        if any("\u0600" <= c <= "\u06ff" for c in t)
    ]
    assert len(persian) >= 40


@pytest.mark.parametrize(
    "text",
    [
        "Tel: ۰۹۱۲ ۳۴۵ ۶۷۸۹",
        "کد ملی ٠٠١٢٣٤٥٦٧٨",
        "شماره پرونده ۱۲۳۴۵۶",
        "تاریخ ۱۴۰۲/۰۵/۱۲",
    ],
)
def test_persian_and_arabic_indic_digits_are_read_as_digits(text):
    assert screen_free_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "arr[GRCh37] 16p11.2(29624556_30199850)x1",
        "chr16:29,624,556-30,199,850",
        "NM_000518.5:c.92+1G>A",
        "c.1234G>A",
        "C1-C2 and T12–L1",
        "Woods & Teuber grade 3",
        "12 x 8 mm",
        "HP:0001335, ORPHA:238722",
        "Arnold Chiari malformation",
    ],
)
def test_clinical_codes_and_coordinates_pass(text):
    assert screen_free_text(text) == []


def test_check_digits_decide_national_numbers():
    assert screen_free_text("social ins. 130 692 544") == ["an identification number"]
    assert screen_free_text("counts 130 692 545") == []
    assert screen_free_text("code 0012345678 given") != []  # a valid Iranian national code
    assert screen_free_text("reads 0012345679 given") != []  # a long number all the same


def test_no_message_repeats_the_matched_text():
    for note in NOTES:
        for message in screen_free_text(note["text"]):
            for word in note["text"].split():
                if len(word) > 3 and any(ch.isdigit() for ch in word):
                    assert word not in message


_PIECES = st.sampled_from(
    [
        "1",
        "12",
        " ",
        "-",
        ".",
        "@",
        ":",
        "a",
        "A",
        "Ab",
        "John ",
        "۱",
        "علی ",
        "(",
        ")",
        "+",
        "/",
        ",",
        "x",
        "c.",
        "_",
        "\u200c",
    ]
)


def _seconds(text: str) -> float:
    start = time.perf_counter()
    screen_free_text(text)
    return time.perf_counter() - start


@settings(max_examples=10, deadline=None)
@given(st.lists(_PIECES, min_size=1, max_size=6))
def test_screening_time_grows_linearly_with_hostile_text(pieces):
    unit = "".join(pieces)
    short = unit * (10_000 // len(unit) + 1)
    long = short * 2
    _seconds(short)
    # Best of five each, so that a busy machine does not decide; a backtracking pattern
    # would take 4x (or far worse) for twice the length, and seconds for 20,000 characters.
    small = min(_seconds(short) for _ in range(5))
    large = min(_seconds(long) for _ in range(5))
    assert large < 3 * small + 0.1 and large < 2.0
