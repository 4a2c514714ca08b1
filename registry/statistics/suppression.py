"""Small-cell suppression of aggregate figures (DESIGN.md, privacy rule 3).

The rule, for every count table a researcher sees (docs/statistics.md says it in full):

1. Primary: a count from 1 to threshold - 1 is suppressed, wherever it stands (a cell, a row
   or column total, the grand total). Zero is shown: it describes nobody.
2. Secondary: totals are the sums of the cells, so a line (a row with its row total, a column
   with its column total, the row totals with the grand total, the column totals with the grand
   total) that has exactly one suppressed figure would give it away by subtraction. In such a
   line the smallest other non-zero figure is suppressed too (a cell before a total), and the
   lines are checked again until none has exactly one suppressed figure.
3. Tables whose units may fall in several cells (checkbox options) have no such sums: only
   rule 1 applies, to the cells and to the number of forms answering.
4. A numeric summary (n, mean, SD, median, quartiles, min, max) over fewer than threshold
   values is suppressed whole; so is a completeness share computed from fewer than threshold
   forms. The count of missing codes follows rule 1.

Suppressed figures become None and each table says how many it hid, so a page can mark them.
"""

from __future__ import annotations

import copy
from typing import Any

Position = tuple[int, int]  # (row, column); row == R or column == C are the margins


def suppress_results(results: dict[str, Any], threshold: int) -> dict[str, Any]:
    """A copy of a snapshot's results with every small figure suppressed."""
    shown = copy.deepcopy(results)
    if threshold <= 1:
        return shown
    shown["patients_by_site"] = suppress_table(shown["patients_by_site"], threshold)
    shown["submissions"] = [suppress_table(t, threshold) for t in shown["submissions"]]
    shown["completeness"] = _suppress_completeness(shown["completeness"], threshold)
    for form in shown["fields"]:
        for field in form["fields"]:
            if field["kind"] == "categorical":
                field["table"] = suppress_table(field["table"], threshold)
            else:
                field["summary"] = suppress_summary(field["summary"], threshold)
    clinical = []
    for table in shown["clinical"]:
        suppressed = suppress_table(table, threshold)
        if "summary" in table:
            suppressed["summary"] = suppress_summary(table["summary"], threshold)
        clinical.append(suppressed)
    shown["clinical"] = clinical
    shown["suppression"] = {"threshold": threshold}
    return shown


def _small(value: int | None, threshold: int) -> bool:
    return value is not None and 0 < value < threshold


def suppress_summary(summary: dict[str, Any], threshold: int) -> dict[str, Any]:
    out = dict(summary)
    if out["n"] < threshold:
        for key in ("n", "mean", "sd", "median", "q1", "q3", "min", "max"):
            out[key] = None
        out["suppressed"] = True
    if _small(out.get("missing_codes"), threshold):
        out["missing_codes"] = None
        out["suppressed"] = True
    return out


def _suppress_completeness(completeness: dict[str, Any], threshold: int) -> dict[str, Any]:
    out = dict(completeness)
    rows = []
    for row in completeness["cells"]:
        cells = []
        for cell in row:
            if 0 < cell["submissions"] < threshold:
                cells.append(
                    {"submissions": None, "expected": None, "filled": None, "suppressed": True}
                )
            else:
                cells.append(dict(cell))
        rows.append(cells)
    out["cells"] = rows
    return out


def suppress_table(table: dict[str, Any], threshold: int) -> dict[str, Any]:
    """A copy of one count table (registry.statistics.aggregates.count_table) with small
    figures suppressed by the rule above."""
    out = copy.deepcopy(table)
    cells: list[list[int]] = table["cells"]
    n_rows, n_cols = len(cells), len(table["columns"])
    R, C = n_rows, n_cols  # the margins: row R holds column totals, column C row totals
    values: dict[Position, int] = {
        (r, c): cells[r][c] for r in range(n_rows) for c in range(n_cols)
    }
    if table["row_totals"] is not None:
        values.update({(r, C): table["row_totals"][r] for r in range(n_rows)})
    if table["column_totals"] is not None:
        values.update({(R, c): table["column_totals"][c] for c in range(n_cols)})
    if table["total"] is not None:
        values[(R, C)] = table["total"]

    hidden = {position for position, value in values.items() if _small(value, threshold)}
    if table["additive"]:
        _secondary(values, hidden, _lines(table, n_rows, n_cols))

    for r, c in hidden:
        if r < R and c < C:
            out["cells"][r][c] = None
        elif r < R:
            out["row_totals"][r] = None
        elif c < C:
            out["column_totals"][c] = None
        else:
            out["total"] = None
    out["suppressed"] = len(hidden)
    return out


def _lines(table: dict[str, Any], n_rows: int, n_cols: int) -> list[list[Position]]:
    """Groups of positions that sum up: the cells of a line, then the line's total."""
    R, C = n_rows, n_cols
    lines = []
    has_row_totals = table["row_totals"] is not None
    has_column_totals = table["column_totals"] is not None
    if has_row_totals:
        lines += [[*((r, c) for c in range(n_cols)), (r, C)] for r in range(n_rows)]
    if has_column_totals:
        lines += [[*((r, c) for r in range(n_rows)), (R, c)] for c in range(n_cols)]
    if table["total"] is not None:
        if has_row_totals:
            lines.append([*((r, C) for r in range(n_rows)), (R, C)])
        if has_column_totals:
            lines.append([*((R, c) for c in range(n_cols)), (R, C)])
    return lines


def _secondary(
    values: dict[Position, int], hidden: set[Position], lines: list[list[Position]]
) -> None:
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(position in hidden for position in line) != 1:
                continue
            *parts, total = line
            # Suppress the smallest other non-zero figure, preferring a cell to the total.
            candidates = [p for p in parts if p not in hidden and values[p] > 0]
            if not candidates and total not in hidden and values[total] > 0:
                candidates = [total]
            if not candidates:
                continue
            hidden.add(min(candidates, key=lambda p: (values[p], p)))
            changed = True
