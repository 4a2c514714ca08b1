"""One typed record per submission, its data as stored under harmonised names: the rows of the
JSON, NDJSON and long CSV exports."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from registry.people.models import User

from .export_base import BaseExport
from .export_spec import ExportSpec
from .layout import RegistryLayout, typed_text
from .release import Release


@dataclass(frozen=True)
class ExportRecord:
    record_id: str
    site: str
    sex: str
    year_of_birth: int | str
    """A 5-year band ("2015-2019") where a release generalised it."""
    form: str
    version: int
    instance: int
    status: str
    updated_at: datetime | None
    """None in a researcher's release: when a record changed can tell who it is."""
    data: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "record_id": self.record_id,
            "site": self.site,
            "sex": self.sex,
            "year_of_birth": self.year_of_birth,
            "form": self.form,
            "version": self.version,
            "instance": self.instance,
            "status": self.status,
        }
        if self.updated_at is not None:
            item["updated_at"] = self.updated_at.isoformat()
        item["data"] = self.data
        return item


class RecordExport(BaseExport):
    """One record per submission with its data typed as stored, under harmonised names."""

    def __init__(
        self,
        user: User,
        spec: ExportSpec,
        layout: RegistryLayout | None = None,
        *,
        release: Release | None = None,
    ) -> None:
        super().__init__(user, spec, layout, release=release)
        self._names: dict[int, dict[str, str]] = {}
        for form in self.selection.forms:
            for pk, version in form.versions.items():
                self._names[pk] = {
                    layout_field.names[version.number]: layout_field.name
                    for layout_field in self.selection.fields[form.name]
                    if version.number in layout_field.names
                }

    def records(self) -> Iterator[ExportRecord]:
        base_versions = {
            pk for form in self.layout.forms if not form.repeatable for pk in form.versions
        }
        filtered = self.filter_node is not None
        stamped = self.release is None
        for patient, group in self._groups(with_updated_at=stamped):
            record = (
                self._filter_record(patient, [row for row in group if row[1] in base_versions])
                if filtered
                else None
            )
            for submission in group:
                names = self._names.get(submission[1])
                if names is None:
                    continue
                form = self.layout.form_of_version[submission[1]]
                if record is not None:
                    context = {
                        **record,
                        **self._harmonised(submission[1], submission[4]),
                        "instrument-name": form.name,
                        "current-instance": submission[2] if form.repeatable else "",
                    }
                    if not self._matches(context):
                        continue
                data = {names[key]: value for key, value in submission[4].items() if key in names}
                self.rows_written += 1
                yield ExportRecord(
                    record_id=patient[1],
                    site=patient[2],
                    sex=patient[4],
                    year_of_birth=patient[5],
                    form=form.name,
                    version=form.versions[submission[1]].number,
                    instance=submission[2],
                    status=submission[3],
                    updated_at=submission[5] if stamped else None,
                    data=data,
                )


LONG_HEADER: Final = ("patient", "form", "version", "instance", "field", "value")


def long_rows(records: Iterable[ExportRecord]) -> Iterator[tuple[str, ...]]:
    """One row per stored value; a checkbox gives one row per ticked option."""
    for record in records:
        head = (record.record_id, record.form, str(record.version), str(record.instance))
        for name, value in record.data.items():
            if type(value) is list:
                for code in value:
                    yield (*head, name, str(code))
            else:
                yield (*head, name, typed_text(value))
