# ruff: noqa: RUF001
"""The identifier screen's fast searches find what its patterns, as written, find.

The screen searches its patterns in ways that are fast in Python's `re` (alternatives behind
cheap gates, searched from a rare character, case-insensitive keywords on the lower-cased
text, merged as one pass would); these tests check, on generated text made of the pieces
those searches turn on, that the matches are the same as one finditer over the pattern."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.formengine import phi, phi_names

_PIECES = st.sampled_from(
    [
        " ",
        "  ",
        "    ",
        ".",
        ",",
        ":",
        "-",
        "/",
        "(",
        ")",
        "_",
        "#",
        "+",
        "1",
        "12",
        "123",
        "2019",
        "31",
        "0912",
        "98",
        "a",
        "A",
        "x",
        "X",
        "p",
        "q",
        "c",
        "g",
        "r",
        "s",
        "Mr",
        "Dr",
        "dr.",
        "by",
        "Son",
        "John",
        "Smith",
        "Mother",
        "And",
        "May",
        "may",
        "March",
        "of",
        "on",
        "since",
        "monday",
        "St",
        "Street",
        "apt",
        "box",
        "PO",
        "mrn",
        "MRN",
        "id",
        "no",
        "number",
        "record",
        "medical record",
        "HP",
        "NM_",
        "rs",
        "chr",
        "GRCh",
        "hg",
        "ENSG",
        "LRG",
        "www.",
        "http://",
        ".com",
        ".ir",
        "ſ",
        "İ",
        "ı",
        "\u212a",
        "\u200c",
        "علی",
        "احمدی",
        "پرونده",
        "کد ملی",
        "شماره",
        "تیر",
        "مهر",
        "خیابان",
        "آقای",
        "نام",
        "٫",
        "۱",
    ]
)
_TEXTS = st.lists(_PIECES, min_size=1, max_size=40).map("".join)

_SEARCHES = {
    name: getattr(phi, name)
    for name in (
        "_URL",
        "_TEXT_DATE",
        "_DAY_MONTH",
        "_PERSIAN_DATE",
        "_TITLE_NAME",
        "_NAME_LABEL",
        "_POSTAL_SHAPE",
        "_ADDRESS",
        "_RECORD_LABELS",
        "_PHONE",
        "_CODE_CONTEXT",
    )
}


@pytest.mark.parametrize("name", sorted(_SEARCHES))
@settings(max_examples=150, deadline=None)
@given(text=_TEXTS)
def test_each_search_finds_what_its_pattern_finds(name, text):
    search = _SEARCHES[name]
    expected = [match.span() for match in search.pattern.finditer(text)]
    assert search.spans(text, phi._lower(text)) == expected


@settings(max_examples=150, deadline=None)
@given(text=_TEXTS)
def test_names_after_a_cue_word_are_those_the_cue_pattern_finds(text):
    first, last = phi_names.english_first_names(), phi_names.english_surnames()
    expected = []
    for match in phi._LATIN_CUE.finditer(text):
        word = match.group(1).upper()
        if word not in phi_names.CLINICAL_WORDS and (word in first or word in last):
            expected.append(match.span(1))
    assert phi._cued_names(text, first, last) == expected


@settings(max_examples=150, deadline=None)
@given(text=_TEXTS)
def test_the_lower_cased_copy_keeps_every_position(text):
    lowered = phi._lower(phi._normalise(text))
    assert len(lowered) == len(text)
    assert phi._normalise(text) == text.translate(phi._NORMALISE)
