"""What one evaluation knows besides the tree: the record, today, missing codes, a resolver."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeAlias

__all__ = ["Context", "Resolver"]

# resolver(field, event, instance) -> the stored value of that field in that event/instance.
# ``event`` is None for [field][instance]; ``instance`` is None for [event][field], else a
# number, or an instance smart variable's name when the record does not say which is current.
Resolver: TypeAlias = Callable[[str, "str | None", "int | str | None"], Any]

_NO_CODES: frozenset[str] = frozenset()


class Context:
    __slots__ = ("_today", "missing", "record", "resolver")

    def __init__(
        self,
        record: Mapping[str, Any],
        today: dt.date | None,
        missing_codes: Collection[str],
        resolver: Resolver | None,
    ) -> None:
        self.record = record
        self._today = today
        if not missing_codes:
            self.missing = _NO_CODES
        elif isinstance(missing_codes, frozenset):
            self.missing = missing_codes
        else:
            self.missing = frozenset(missing_codes)
        self.resolver = resolver

    def today(self) -> dt.date:
        if self._today is None:
            self._today = dt.date.today()
        return self._today
