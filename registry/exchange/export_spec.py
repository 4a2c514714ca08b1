"""What an export is asked for (`ExportSpec`), and the error that says why a request cannot be
answered (`ExportError`). The REST API, the REDCap API and export jobs all speak it: a job keeps
its spec as JSON in its parameters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime


class ExportError(ValueError):
    """An export request that cannot be answered; names the parameter and what would be right."""

    def __init__(self, parameter: str, message: str) -> None:
        self.parameter = parameter
        self.message = message
        super().__init__(f"{parameter}: {message}")


@dataclass(frozen=True)
class ExportSpec:
    """What to export. Empty tuples mean "all"; every filter narrows the rows."""

    forms: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    records: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    version: int | None = None
    changed_since: datetime | None = None
    changed_until: datetime | None = None
    labels: bool = False
    """Choice labels instead of codes (REDCap's rawOrLabel=label)."""
    label_headers: bool = False
    checkbox_labels: bool = False
    """With `labels`: a ticked option shows its label, an unticked one is blank."""
    data_access_groups: bool = True
    """Add redcap_data_access_group (only for people who see more than one site)."""
    blank_for_gray: bool = False
    """A form never filled shows a blank status instead of 0 (Incomplete)."""
    filter_logic: str = ""
    csv_delimiter: str = ","

    @property
    def filters_submissions(self) -> bool:
        return bool(
            self.statuses or self.version is not None or self.changed_since or self.changed_until
        )

    def as_parameters(self) -> dict[str, Any]:
        """The spec as JSON-safe data, for a job's parameters."""
        data = asdict(self)
        for key in ("changed_since", "changed_until"):
            moment = getattr(self, key)
            data[key] = moment.isoformat() if moment else None
        return {
            key: list(value) if isinstance(value, tuple) else value for key, value in data.items()
        }

    @classmethod
    def from_parameters(cls, data: Mapping[str, Any]) -> ExportSpec:
        values = dict(data)
        for key in ("forms", "fields", "records", "sites", "statuses"):
            values[key] = tuple(values.get(key) or ())
        for key in ("changed_since", "changed_until"):
            moment = values.get(key)
            values[key] = parse_datetime(moment) if moment else None
        return cls(**values)
