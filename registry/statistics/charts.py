"""Bar charts as inline SVG, drawn on the server: no script, no CDN, readable without colour.

`bar_chart` draws one bar per row of a count table; tables with several columns become stacked
bars with a legend. Suppressed figures are never drawn as a size: a bar whose total is
suppressed is a dashed outline marked "suppressed", and within a stacked bar the suppressed
cells together form one hatched segment (their sum is the row total minus the cells shown,
which the table itself already gives away, so nothing new is revealed).
"""

from __future__ import annotations

from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Colour-blind-safe palette (Okabe & Ito), with patterns not needed thanks to the legend order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
ROW_HEIGHT = 22
LABEL_WIDTH = 230
BAR_WIDTH = 360
VALUE_WIDTH = 90


def _label(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _legend(columns: list[dict[str, Any]], width: int) -> list[tuple[int, str, int, str]]:
    """(x, text, line, colour) of each legend entry, wrapped to the chart's width."""
    entries = []
    x, line = LABEL_WIDTH, 0
    for index, column in enumerate(columns):
        text = _label(column["label"], 30)
        advance = 16 + 6 * len(text) + 14
        if x + advance > width and x > LABEL_WIDTH:
            x, line = LABEL_WIDTH, line + 1
        entries.append((x, text, line, PALETTE[index % len(PALETTE)]))
        x += advance
    return entries


def bar_chart(table: dict[str, Any]) -> SafeString:
    """An accessible SVG chart of a count table (rows as bars)."""
    rows = table["rows"]
    columns = table["columns"]
    stacked = len(columns) > 1
    totals = table.get("row_totals") if stacked else [row[0] for row in table["cells"]]
    if totals is None:
        totals = [None] * len(rows)
    known = [value for value in totals if value is not None]
    scale = BAR_WIDTH / max(known) if known and max(known) > 0 else 0.0
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    legend = _legend(columns, width) if stacked else []
    legend_height = (max(line for _, _, line, _ in legend) + 1) * ROW_HEIGHT if legend else 0
    height = legend_height + ROW_HEIGHT * len(rows) + 6
    title = escape(table["title"])
    parts = [
        f'<svg class="stats-chart" role="img" aria-label="{title}" viewBox="0 0 {width} '
        f'{height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{title}</title>",
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#e9ecef"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#6c757d" stroke-width="2"/></pattern></defs>',
    ]
    for x, text, line, colour in legend:
        y = line * ROW_HEIGHT
        parts.append(f'<rect x="{x}" y="{y + 4}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="{y + 14}" font-size="11">{escape(text)}</text>')
    for index, row in enumerate(rows):
        y = legend_height + index * ROW_HEIGHT + 3
        label = escape(_label(row["label"]))
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 14}" font-size="12" '
            f'text-anchor="end">{label}</text>'
        )
        total = totals[index]
        if total is None:
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y + 2}" width="40" height="14" '
                'fill="none" stroke="#6c757d" stroke-dasharray="3 2"/>'
            )
            parts.append(
                f'<text x="{LABEL_WIDTH + 46}" y="{y + 14}" font-size="11" '
                'fill="#495057">suppressed</text>'
            )
            continue
        x = float(LABEL_WIDTH)
        shown = 0
        cells = table["cells"][index]
        for column_index, value in enumerate(cells if stacked else cells[:1]):
            if not value:
                continue
            colour = PALETTE[column_index % len(PALETTE)] if stacked else PALETTE[0]
            w = value * scale
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 2}" width="{w:.1f}" height="14" '
                f'fill="{colour}"><title>{escape(row["label"])}: '
                f"{escape(columns[column_index]['label'])} {value}</title></rect>"
            )
            x += w
            shown += value
        hidden = total - shown
        if hidden > 0:
            w = hidden * scale
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 2}" width="{w:.1f}" height="14" '
                'fill="url(#hatch)"><title>suppressed cells</title></rect>'
            )
            x += w
        parts.append(f'<text x="{x + 5:.1f}" y="{y + 14}" font-size="11">{total}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text above is escaped
