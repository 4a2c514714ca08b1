"""REDCap's flat layout: record ID, repeat columns, sex and year of birth, each form's fields
harmonised across versions and its `<form>_complete`, one row per record's non-repeating forms
and per repeating instance.

This is the Python writer of the layout; on PostgreSQL, `pgcopy.py` has the database build the
same rows when the request allows it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from registry.patients.models import Sex
from registry.people.models import User

from .export_base import BaseExport
from .export_spec import ExportSpec
from .layout import (
    DATA_ACCESS_GROUP,
    RECORD_FIELD_LABELS,
    RECORD_ID,
    RECORD_ID_LABEL,
    REPEAT_INSTANCE,
    REPEAT_INSTRUMENT,
    SEX,
    STATUS_CODES,
    STATUS_LABELS,
    YEAR_OF_BIRTH,
    RegistryLayout,
    typed_text,
)
from .release import Release

_SEX_LABELS: Final = {sex.value: sex.label for sex in Sex}
_VALUE, _CHECKBOX = 0, 1


@dataclass
class _Plan:
    """How one form version's stored keys land in the flat row."""

    cells: dict[str, tuple[int, Any, Mapping[str, str] | None]] = field(default_factory=dict)
    """Stored key -> (kind, column index or {code: index}, labels or None)."""
    status_index: int | None = None


class FlatExport(BaseExport):
    """REDCap's flat layout, one row per record's non-repeating forms and per repeating
    instance, with the columns the request selects."""

    def __init__(
        self,
        user: User,
        spec: ExportSpec,
        layout: RegistryLayout | None = None,
        *,
        release: Release | None = None,
    ) -> None:
        super().__init__(user, spec, layout, release=release)
        self.columns: list[str] = []
        self.headers: list[str] = []
        self._build_columns()
        self._plans = self._build_plans()
        self._templates = self._build_templates()

    def _add(self, name: str, header: str) -> int:
        self.columns.append(name)
        self.headers.append(header)
        return len(self.columns) - 1

    def _build_columns(self) -> None:
        self._add(RECORD_ID, RECORD_ID_LABEL)
        if self.layout.any_repeating:
            self._add(REPEAT_INSTRUMENT, "Repeat Instrument")
            self._add(REPEAT_INSTANCE, "Repeat Instance")
        self._dag_index = (
            self._add(DATA_ACCESS_GROUP, "Data Access Group") if self.dag_column else None
        )
        self._record_index = {
            name: self._add(name, RECORD_FIELD_LABELS[name])
            for name in self.selection.record_fields
        }
        self._field_index: dict[str, Any] = {}
        self._complete_index: dict[str, int] = {}
        for form in self.selection.forms:
            for layout_field in self.selection.fields[form.name]:
                label = layout_field.field.display_name
                if layout_field.is_checkbox:
                    self._field_index[layout_field.name] = {
                        code: self._add(column, f"{label} (choice={layout_field.labels[code]})")
                        for code, column in zip(
                            layout_field.codes, layout_field.columns, strict=True
                        )
                    }
                else:
                    self._field_index[layout_field.name] = self._add(layout_field.name, label)
            if form.name in self.selection.complete:
                self._complete_index[form.name] = self._add(form.complete_column, "Complete?")
        base_forms = [f for f in self.selection.forms if not f.repeatable]
        self._base_wanted = bool(
            self.selection.record_fields or base_forms or not self.selection.forms
        )

    def _build_plans(self) -> dict[int, _Plan]:
        labels = self.spec.labels
        plans = {}
        for form in self.selection.forms:
            for pk, version in form.versions.items():
                plan = _Plan(status_index=self._complete_index.get(form.name))
                for layout_field in self.selection.fields[form.name]:
                    name = layout_field.names.get(version.number)
                    if name is None:
                        continue
                    index = self._field_index[layout_field.name]
                    if layout_field.is_checkbox:
                        plan.cells[name] = (_CHECKBOX, index, layout_field.labels)
                    else:
                        plan.cells[name] = (
                            _VALUE,
                            index,
                            layout_field.labels if labels and layout_field.labels else None,
                        )
                plans[pk] = plan
        return plans

    def _build_templates(self) -> dict[str | None, list[str]]:
        spec = self.spec
        if spec.labels:
            unchecked = "" if spec.checkbox_labels else "Unchecked"
            gray = "" if spec.blank_for_gray else "Incomplete"
        else:
            unchecked = "0"
            gray = "" if spec.blank_for_gray else "0"
        templates: dict[str | None, list[str]] = {}
        for key, forms in [
            (None, [f for f in self.selection.forms if not f.repeatable]),
            *[(f.name, [f]) for f in self.selection.forms if f.repeatable],
        ]:
            row = [""] * len(self.columns)
            for form in forms:
                for layout_field in self.selection.fields[form.name]:
                    if layout_field.is_checkbox:
                        for index in self._field_index[layout_field.name].values():
                            row[index] = unchecked
                if key is None and form.name in self._complete_index:
                    row[self._complete_index[form.name]] = gray
            if key is not None and self.layout.any_repeating:
                row[1] = key
            templates[key] = row
        return templates

    def _has_record_rows(self) -> bool:
        return self._base_wanted

    def header(self) -> list[str]:
        return self.headers if self.spec.label_headers else self.columns

    def rows(self) -> Iterator[list[str]]:
        """The rows, as lists of strings in the order of `columns`."""
        spec = self.spec
        labels = spec.labels
        checked = "1" if not labels else None if spec.checkbox_labels else "Checked"
        status_text = STATUS_LABELS if labels else STATUS_CODES
        plans, templates = self._plans, self._templates
        repeating = self.layout.any_repeating
        dag_index, record_index = self._dag_index, self._record_index
        sex_index = record_index.get(SEX)
        year_index = record_index.get(YEAR_OF_BIRTH)
        base_wanted = self._base_wanted
        filtered = self.filter_node is not None
        only_matching = spec.filters_submissions
        base_versions = {
            pk for form in self.layout.forms if not form.repeatable for pk in form.versions
        }
        fill = _filler(checked, labels)

        for patient, group in self._groups():
            if only_matching and not group:
                continue
            base = [row for row in group if row[1] in base_versions]
            record = self._filter_record(patient, base) if filtered else None
            if base_wanted:
                row = templates[None][:]
                row[0] = patient[1]
                if dag_index is not None:
                    row[dag_index] = patient[3] if labels else patient[2].lower()
                if sex_index is not None:
                    row[sex_index] = (
                        _SEX_LABELS.get(patient[4], patient[4]) if labels else patient[4]
                    )
                if year_index is not None:
                    row[year_index] = str(patient[5])
                for submission in base:
                    plan = plans.get(submission[1])
                    if plan is None:
                        continue
                    fill(row, submission[4], plan.cells)
                    if plan.status_index is not None:
                        row[plan.status_index] = status_text[submission[3]]
                if record is None or self._matches({**record, "current-instance": ""}):
                    self.rows_written += 1
                    yield row
            for submission in group:
                plan = plans.get(submission[1])
                if plan is None or submission[1] in base_versions:
                    continue
                form = self.layout.form_of_version[submission[1]]
                if record is not None and not self._matches(
                    {
                        **record,
                        **self._harmonised(submission[1], submission[4]),
                        "current-instance": submission[2],
                        "instrument-name": form.name,
                    }
                ):
                    continue
                row = templates[form.name][:]
                row[0] = patient[1]
                if repeating:
                    row[2] = str(submission[2])
                if dag_index is not None:
                    row[dag_index] = patient[3] if labels else patient[2].lower()
                fill(row, submission[4], plan.cells)
                if plan.status_index is not None:
                    row[plan.status_index] = status_text[submission[3]]
                self.rows_written += 1
                yield row

    def dicts(self) -> Iterator[dict[str, Any]]:
        """The rows as REDCap's JSON has them: strings, the repeat instance a number."""
        names = self.header()
        instance = 2 if self.layout.any_repeating else None
        for row in self.rows():
            item: dict[str, Any] = dict(zip(names, row, strict=True))
            if instance is not None:
                value = row[instance]
                item[names[instance]] = int(value) if value else ""
            yield item

    def eav_items(self) -> Iterator[dict[str, Any]]:
        """REDCap's type=eav: one item per value of each flat row (`record`, the repeat
        columns, `field_name`, `value`), a ticked checkbox option as the field's name and the
        option's code (or label), blanks and unticked options left out."""
        columns = self.columns
        repeating = self.layout.any_repeating
        first_value = 3 if repeating else 1
        boxes = self.layout.checkbox_columns
        labels = self.spec.labels
        unticked = {"", "0", "Unchecked"}
        for row in self.rows():
            head: dict[str, Any] = {"record": row[0]}
            if repeating:
                head[REPEAT_INSTRUMENT] = row[1]
                head[REPEAT_INSTANCE] = int(row[2]) if row[2] else ""
            if not row[1] or not repeating:
                yield {**head, "field_name": RECORD_ID, "value": row[0]}
            for index in range(first_value, len(columns)):
                value = row[index]
                if not value:
                    continue
                box = boxes.get(columns[index])
                if box is None:
                    yield {**head, "field_name": columns[index], "value": value}
                elif value not in unticked:
                    layout_field, code = box
                    yield {
                        **head,
                        "field_name": layout_field.name,
                        "value": layout_field.labels.get(code, code) if labels else code,
                    }


def _filler(
    checked: str | None, labels: bool
) -> Callable[[list[str], Mapping[str, Any], Mapping[str, Any]], None]:
    def fill(row: list[str], data: Mapping[str, Any], cells: Mapping[str, Any]) -> None:
        for key, value in data.items():
            cell = cells.get(key)
            if cell is None:
                continue
            kind, index, names = cell
            if kind == _VALUE:
                text = value if type(value) is str else typed_text(value)
                row[index] = names.get(text, text) if names is not None else text
                continue
            for code in value if type(value) is list else (value,):
                position = index.get(code)
                if position is not None:
                    row[position] = checked if checked is not None else names.get(code, code)

    return fill
