"""Small-cell suppression: no count below the threshold reaches a researcher, and no suppressed
count can be worked back out of the totals shown."""

from __future__ import annotations

import pytest

from registry.statistics.aggregates import count_table, iter_tables
from registry.statistics.suppression import (
    suppress_results,
    suppress_summary,
    suppress_table,
)


def two_way(cells: list[list[int]]) -> dict:
    rows = [(f"r{i}", f"Row {i}") for i in range(len(cells))]
    columns = [(f"c{j}", f"Column {j}") for j in range(len(cells[0]))]
    counts = {
        (f"r{i}", f"c{j}"): value for i, line in enumerate(cells) for j, value in enumerate(line)
    }
    return count_table("t", "A table", unit="patients", rows=rows, columns=columns, counts=counts)


def lines_of(t: dict) -> list[list]:
    """Every line of figures that sums up, as shown (None = suppressed)."""
    lines = []
    for r, row in enumerate(t["cells"]):
        if t["row_totals"] is not None:
            lines.append([*row, t["row_totals"][r]])
    for c in range(len(t["columns"])):
        lines.append([row[c] for row in t["cells"]] + [t["column_totals"][c]])
    if t["row_totals"] is not None:
        lines.append([*t["row_totals"], t["total"]])
    lines.append([*t["column_totals"], t["total"]])
    return lines


def assert_protected(t: dict, threshold: int) -> None:
    shown = [v for line in lines_of(t) for v in line if v is not None]
    assert not [v for v in shown if 0 < v < threshold]
    for line in lines_of(t):
        assert sum(v is None for v in line) != 1, line


def test_small_counts_are_suppressed_and_zero_is_shown():
    t = suppress_table(two_way([[3, 40, 0], [20, 30, 12]]), 5)
    assert t["cells"][0][0] is None
    assert t["cells"][0][2] == 0
    assert t["suppressed"] >= 2
    assert_protected(t, 5)


def test_a_suppressed_cell_cannot_be_recovered_from_its_row_or_column_total():
    original = two_way([[2, 50, 60], [30, 40, 70], [25, 35, 45]])
    t = suppress_table(original, 5)
    assert t["cells"][0][0] is None
    assert_protected(t, 5)
    # The other figures of its row and column that were hidden alongside it.
    row_hidden = [v is None for v in [*t["cells"][0], t["row_totals"][0]]]
    column_hidden = [t["cells"][r][0] is None for r in range(3)] + [t["column_totals"][0] is None]
    assert sum(row_hidden) >= 2 and sum(column_hidden) >= 2


def test_a_small_total_is_suppressed_with_enough_cells_to_hide_it():
    t = suppress_table(two_way([[1, 2, 0], [50, 60, 70]]), 5)
    assert t["row_totals"][0] is None
    assert_protected(t, 5)


@pytest.mark.parametrize("threshold", [3, 5, 10])
def test_many_random_tables_stay_protected(threshold):
    import random

    rng = random.Random(threshold)
    for _ in range(200):
        shape = (rng.randint(1, 5), rng.randint(2, 5))
        cells = [
            [rng.choice([0, 1, 2, 3, 4, 6, 9, 15, 40]) for _ in range(shape[1])]
            for _ in range(shape[0])
        ]
        assert_protected(suppress_table(two_way(cells), threshold), threshold)


def test_one_way_distributions_hide_a_second_cell_so_the_total_reveals_nothing():
    t = count_table(
        "d",
        "Answers",
        unit="forms",
        rows=[("a", "A"), ("b", "B"), ("c", "C")],
        columns=[("n", "Forms")],
        counts={("a", "n"): 3, ("b", "n"): 9, ("c", "n"): 20},
    )
    shown = suppress_table(t, 5)
    assert [row[0] for row in shown["cells"]] == [None, None, 20]
    assert shown["total"] == 32


def test_checkbox_tables_suppress_small_cells_only():
    t = count_table(
        "cb",
        "Options",
        unit="forms",
        rows=[("a", "A"), ("b", "B")],
        columns=[("n", "Forms")],
        counts={("a", "n"): 2, ("b", "n"): 30},
        additive=False,
        total=31,
    )
    shown = suppress_table(t, 5)
    assert [row[0] for row in shown["cells"]] == [None, 30] and shown["total"] == 31


def test_a_numeric_summary_of_few_values_is_suppressed_whole():
    summary = {
        "n": 4,
        "mean": 10.0,
        "sd": 1.0,
        "median": 10.0,
        "q1": 9.0,
        "q3": 11.0,
        "min": 8.0,
        "max": 12.0,
        "missing_codes": 0,
    }
    hidden = suppress_summary(summary, 5)
    statistics = ("n", "mean", "sd", "median", "q1", "q3", "min", "max")
    assert hidden["suppressed"] is True
    assert {k: hidden[k] for k in statistics} == dict.fromkeys(statistics)
    assert summary["mean"] == 10.0  # the snapshot's own copy is left as it was
    shown = suppress_summary({**summary, "n": 5}, 5)
    assert shown == {**summary, "n": 5} and "suppressed" not in shown


def test_a_small_count_of_missing_codes_is_suppressed_and_marked():
    summary = {
        "n": 40,
        "mean": 10.0,
        "sd": 1.0,
        "median": 10.0,
        "q1": 9.0,
        "q3": 11.0,
        "min": 8.0,
        "max": 12.0,
    }
    hidden = suppress_summary({**summary, "missing_codes": 2}, 5)
    assert hidden == {**summary, "missing_codes": None, "suppressed": True}
    assert suppress_summary({**summary, "missing_codes": 5}, 5)["missing_codes"] == 5


def test_the_second_figure_hidden_is_the_smallest_other_one_of_its_line():
    # Row 0 has one small cell (2): the smallest other non-zero figure of its row (7) and of
    # its column (9) go with it, then 60, the smallest other one of 7's column; the larger
    # figures and the totals stay.
    t = suppress_table(two_way([[2, 7, 50], [9, 60, 70], [40, 80, 90]]), 5)
    assert t["cells"] == [[None, None, 50], [None, None, 70], [40, 80, 90]]
    assert t["row_totals"] == [59, 139, 210] and t["total"] == 408
    assert t["suppressed"] == 4
    assert_protected(t, 5)


def test_suppressing_a_snapshot_hides_small_summaries_and_leaves_the_snapshot_as_it_was():
    small = {
        "n": 2,
        "mean": 3.0,
        "sd": 1.0,
        "median": 3.0,
        "q1": 2.0,
        "q3": 4.0,
        "min": 2.0,
        "max": 4.0,
        "missing_codes": 0,
    }
    table = two_way([[2, 40], [30, 50]])
    results = {
        "patients_by_site": table,
        "submissions": [table],
        "completeness": {"cells": []},
        "fields": [
            {
                "fields": [
                    {"kind": "numeric", "summary": small},
                    {"kind": "categorical", "table": table},
                ]
            }
        ],
        "clinical": [{**table, "summary": small}],
    }
    shown = suppress_results(results, 5)
    assert shown["fields"][0]["fields"][0]["summary"]["mean"] is None
    assert shown["fields"][0]["fields"][1]["table"]["cells"][0][0] is None
    assert shown["clinical"][0]["summary"]["mean"] is None
    assert shown["clinical"][0]["cells"][0][0] is None
    assert shown["patients_by_site"]["cells"][0][0] is None
    assert shown["suppression"] == {"threshold": 5}
    assert results["fields"][0]["fields"][0]["summary"]["mean"] == 3.0
    assert results["patients_by_site"]["cells"][0][0] == 2
    # A threshold of 2 hides the counts of 1 only.
    assert suppress_results(results, 2)["patients_by_site"]["cells"][0][0] == 2


@pytest.mark.django_db
def test_no_small_count_survives_in_a_real_snapshot(forms):
    from registry.demo.synthetic import do_generate_synthetic
    from registry.statistics.services import do_compute_statistics
    from tests.factories import SiteFactory

    do_generate_synthetic(
        None, [SiteFactory(code="ALPHA"), SiteFactory(code="BETA")], patients=60, seed=5
    )
    results = do_compute_statistics(None).results
    raw_small = [v for t in iter_tables(results) for line in t["cells"] for v in line if 0 < v < 5]
    assert raw_small, "the data set should have small cells for this test to mean anything"
    shown = suppress_results(results, 5)
    for t in iter_tables(shown):
        figures = [v for line in t["cells"] for v in line]
        figures += (t["row_totals"] or []) + (t["column_totals"] or []) + [t["total"]]
        assert not [v for v in figures if v is not None and 0 < v < 5], t["key"]
        if t["additive"]:
            assert_protected(t, 5)
    for form in shown["fields"]:
        for field in form["fields"]:
            if field["kind"] == "numeric" and field["summary"]["n"] is not None:
                assert field["summary"]["n"] >= 5


def completeness_of(*submissions: int) -> dict:
    cells = [[{"submissions": n, "expected": 2 * n, "filled": n} for n in submissions]]
    return {
        "patients_by_site": two_way([[10, 10]]),
        "submissions": [],
        "fields": [],
        "clinical": [],
        "completeness": {
            "title": "Completeness",
            "rows": [],
            "columns": [],
            "cells": cells,
            "left_out": [],
        },
    }


def test_completeness_is_hidden_below_the_threshold_and_shown_at_it():
    ((below, at, none),) = suppress_results(completeness_of(4, 5, 0), 5)["completeness"]["cells"]
    assert below == {"submissions": None, "expected": None, "filled": None, "suppressed": True}
    assert at == {"submissions": 5, "expected": 10, "filled": 5}
    assert none == {"submissions": 0, "expected": 0, "filled": 0}


def test_a_count_one_below_the_threshold_is_hidden_and_one_at_it_is_shown():
    assert suppress_table(two_way([[4, 50]]), 5)["cells"][0][0] is None
    alone = suppress_table(
        count_table(
            "t",
            "One",
            unit="patients",
            rows=[("r", "R")],
            columns=[("a", "A")],
            counts={("r", "a"): 5},
        ),
        5,
    )
    assert alone["cells"] == [[5]] and alone["suppressed"] == 0


def test_a_completeness_share_of_one_form_is_hidden():
    ((one,),) = suppress_results(completeness_of(1), 5)["completeness"]["cells"]
    assert one["suppressed"] is True and one["submissions"] is None


def test_a_threshold_of_two_hides_the_counts_of_one():
    shown = suppress_results(completeness_of(1, 2), 2)
    ((one, two),) = shown["completeness"]["cells"]
    assert one["submissions"] is None and two["submissions"] == 2
    assert shown["suppression"] == {"threshold": 2}
    assert suppress_table(two_way([[1, 40], [30, 50]]), 2)["cells"][0][0] is None


def test_suppressing_a_table_leaves_the_table_given_as_it_was():
    table = two_way([[2, 40], [30, 50]])
    suppress_table(table, 5)
    assert table["cells"] == [[2, 40], [30, 50]] and table["row_totals"] == [42, 80]
