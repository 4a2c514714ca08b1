"""The smart variables the registry understands, and the values derived from one another.

Smart variables are read from the record under their own name (``record["record-name"]``):
names with a hyphen can never clash with field names, so the caller puts in the context it
knows. Only ``previous-instance`` and ``next-instance`` are derived, from ``current-instance``.
Others in REDCap (user names, survey links, DAG internals, ...) either leak identities or mean
nothing here, so the parser refuses them by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .coercion import number

__all__ = ["INSTANCE_VARIABLES", "SMART_VARIABLES", "smart_value"]

# The smart variables that may also qualify a field: [field][previous-instance].
INSTANCE_VARIABLES = frozenset(
    {"current-instance", "previous-instance", "next-instance", "first-instance", "last-instance"}
)

SMART_VARIABLES = INSTANCE_VARIABLES | frozenset(
    {"record-name", "record-dag-name", "event-name", "instrument-name"}
)

_MISSING = object()


def smart_value(name: str, record: Mapping[str, Any]) -> Any:
    """The value of a smart variable for this record, or ``None`` when the record does not say.

    A blank value is ``""``: there is no previous instance of the first instance.
    """
    value = record.get(name, _MISSING)
    if value is not _MISSING:
        return "" if value is None else value
    if name in ("previous-instance", "next-instance"):
        current = number(record.get("current-instance"))
        if current is None or current != int(current):
            return None
        if name == "next-instance":
            return int(current) + 1
        return int(current) - 1 if current > 1 else ""
    return None
