"""Hostile data dictionaries and logic: a problem naming the row and column, never a crash.

A cell too long for the csv module, a NUL or a lone surrogate anywhere, a rule longer than the
logic parser reads or nested deeper than it goes: each is a DictionaryError (or a
LogicSyntaxError), quickly, whatever the size of the input.
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest

from registry.formengine import logic
from registry.formengine.dictionary import COLUMNS, DictionaryError, read_dictionary
from registry.formengine.logic.parser import MAX_LENGTH

DICTIONARY = Path(__file__).resolve().parent / "dictionaries" / "clinic_followup.csv"
BRANCHING = COLUMNS.index("Branching Logic (Show field only if...)")
LABEL = COLUMNS.index("Field Label")
CHOICES = COLUMNS.index("Choices, Calculations, OR Slider Labels")
MB = 1024 * 1024


def with_cell(row: int, column: int, value: str) -> str:
    """The dictionary with one cell (row numbered from 1, the header's) replaced."""
    rows = list(csv.reader(io.StringIO(DICTIONARY.read_text(encoding="utf-8-sig"), newline="")))
    rows[row - 1][column] = value
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def rule_of(size: int) -> str:
    """A rule of `size` characters or a few fewer."""
    unit = "[age] = '1' and "
    return unit * ((size - 11) // len(unit)) + "[age] = '1'"


PROBES: dict[str, tuple[int, str, str]] = {
    # name: (column, cell, what the problem says)
    "a 1 MB branching rule": (BRANCHING, rule_of(MB), "131,072 characters"),
    "a 1 MB rule of parentheses": (
        BRANCHING,
        "(" * (MB // 2) + "1" + ")" * (MB // 2),
        "131,072 characters",
    ),
    "a rule over the parser's length": (
        BRANCHING,
        rule_of(MAX_LENGTH) + " and [age] = '1'",
        f"longer than {MAX_LENGTH:,}",
    ),
    "a rule nested 150 deep": (BRANCHING, "(" * 150 + "1" + ")" * 150, "nested too deeply"),
    "a rule of 5,000 minus signs": (BRANCHING, "-" * 5000 + "1", "nested too deeply"),
    "a rule of 3,000 nots": (BRANCHING, "not " * 2000 + "1", "nested too deeply"),
    "a rule of 3,000 powers": (BRANCHING, "2^" * 3000 + "1", "nested too deeply"),
    "a NUL byte in a rule": (BRANCHING, "[age]\x00 = '1'", "NUL"),
    "a NUL byte in a label": (LABEL, "Age\x00", "NUL"),
    "a lone surrogate in a label": (LABEL, "Age \ud800", "surrogate"),
    "a 1 MB label": (LABEL, "x" * MB, "131,072 characters"),
    "1 MB of choices": (
        CHOICES,
        " | ".join(f"{n}, choice" for n in range(100_000)),
        "131,072 characters",
    ),
}


@pytest.mark.parametrize(("column", "cell", "words"), PROBES.values(), ids=PROBES)
def test_a_hostile_cell_is_a_problem_of_its_row_and_column(column, cell, words):
    started = time.perf_counter()
    with pytest.raises(DictionaryError) as raised:
        read_dictionary(with_cell(4, column, cell))
    assert time.perf_counter() - started < 5
    problem = raised.value.problems[0]
    assert (problem.row, problem.column) == (4, COLUMNS[column])
    assert words in problem.message
    assert len(str(problem)) < 1000, "the problem echoes the hostile cell"


def test_a_nul_in_the_header_is_a_problem_of_row_one():
    text = DICTIONARY.read_text(encoding="utf-8-sig").replace("Form Name", "Form\x00Name", 1)
    with pytest.raises(DictionaryError) as raised:
        read_dictionary(text)
    assert (raised.value.problems[0].row, raised.value.problems[0].column) == (1, "Form Name")


def test_the_dictionary_as_it_is_reads():
    assert read_dictionary(DICTIONARY.read_text(encoding="utf-8-sig")).schemas


@pytest.mark.parametrize(
    "source",
    [
        "(" * 100_000 + "1" + ")" * 100_000,
        "-" * 100_000 + "1",
        "not " * 50_000 + "1",
        "2^" * 50_000 + "1",
        rule_of(MB),
        "[a]" * 100_000,
        "'" + "x" * MB + "'",
        "2^" * 3000 + "1",
        "sum(" * 3000 + "1" + ")" * 3000,
        "(-" * 3000 + "1" + ")" * 3000,
    ],
    ids=[
        "parentheses",
        "minus",
        "not",
        "power",
        "and",
        "references",
        "string",
        "3,000 powers",
        "3,000 calls",
        "3,000 signs in parentheses",
    ],
)
def test_logic_of_any_size_is_refused_quickly_with_a_syntax_error(source: str):
    started = time.perf_counter()
    with pytest.raises(logic.LogicSyntaxError) as raised:
        logic.parse(source)
    assert time.perf_counter() - started < 1
    assert len(str(raised.value)) < 200


def test_logic_at_the_length_limit_is_read():
    source = rule_of(MAX_LENGTH)
    assert len(source) <= MAX_LENGTH
    assert isinstance(logic.parse(source), logic.Logical)
