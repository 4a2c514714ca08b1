"""Showing statistics: suppressed figures, shares, numbers and charts."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from registry.statistics.charts import bar_chart

register = template.Library()


@register.filter
def figure(value: Any) -> SafeString | str:
    """A count, or a marked gap where it was suppressed."""
    if value is None:
        return format_html(
            '<span class="stats-suppressed" title="{}">{}</span>',
            "Suppressed to protect small counts",
            "suppressed",
        )
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


@register.filter
def share(cell: dict[str, Any]) -> SafeString | str:
    """Completeness as a percentage of the required fields expected."""
    if cell.get("suppressed"):
        return figure(None)
    if not cell.get("expected"):
        return "n/a"
    return f"{100 * cell['filled'] / cell['expected']:.0f}%"


@register.filter
def chart(table: dict[str, Any]) -> SafeString:
    return bar_chart(table)


@register.filter
def row_cells(table: dict[str, Any], index: int) -> list[Any]:
    return table["cells"][index]


@register.filter
def at(sequence: list[Any] | None, index: int) -> Any:
    return None if sequence is None else sequence[index]
