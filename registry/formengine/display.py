"""Stored values in words, for people reading a submission: choice labels rather than codes,
an HPO term's name beside its code."""

from __future__ import annotations

from typing import Any

from registry.formengine.hpo import hpo_release
from registry.formengine.schema import Field
from registry.formengine.values import format_number

__all__ = ["display_value"]


def display_value(field: Field, value: Any) -> str:
    """`value` as a person reads it: labels for codes, lists joined, blanks empty."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, list):
        return "; ".join(field.choice_labels.get(str(code), str(code)) for code in value)
    if field.choice_labels and str(value) in field.choice_labels:
        return field.choice_labels[str(value)]
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return format_number(value)
    if field.ontology.upper() == "HP" and isinstance(value, str):
        term = hpo_release().term(value)
        return f"{value} ({term.name})" if term is not None else value
    return str(value)
