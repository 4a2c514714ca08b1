"""Exports: row iterators over the registry's submissions, and writers that stream them.

`FlatExport` yields REDCap's flat layout (record ID, repeat columns, sex and year of birth,
each form's fields harmonised across versions and its `<form>_complete`); `RecordExport`
yields one typed record per submission, for JSON, NDJSON and the long CSV. Both read the
database through the export selectors in chunks, walk patients and submissions side by side,
and hold one patient's rows at a time, so memory stays flat however many rows there are. The
writers turn rows into text chunks for a StreamingHttpResponse or a file.

Every export applies the de-identification rule of `release.py` for the person it is for.
An export to a researcher is a release (`release.py`): its records carry the release's own
pseudonyms, no timestamps, and the record fields that k-anonymity allows (`anonymity.py`);
patients it suppresses are left out.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any, Final

from django.utils.dateparse import parse_datetime

from registry.csvsafe import SafeWriter
from registry.formengine import logic
from registry.patients.models import Sex
from registry.people.access import sites_in_scope
from registry.people.models import User

from .anonymity import FETCH_CHUNK, Manifest, Released, lesions_by_patient, plan_release
from .layout import (
    DATA_ACCESS_GROUP,
    RECORD_FIELD_LABELS,
    RECORD_FIELDS,
    RECORD_ID,
    RECORD_ID_LABEL,
    REPEAT_INSTANCE,
    REPEAT_INSTRUMENT,
    SEX,
    STATUS_CODES,
    STATUS_LABELS,
    YEAR_OF_BIRTH,
    FormLayout,
    LayoutField,
    RegistryLayout,
    current_layout,
    typed_text,
)
from .release import Release, may_receive, release_for
from .selectors import export_patients, export_submissions

CHUNK_SIZE: Final = 2000
"""Rows fetched from the database at a time."""

_SEX_LABELS: Final = {sex.value: sex.label for sex in Sex}
_VALUE, _CHECKBOX = 0, 1


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


@dataclass
class _Selection:
    forms: list[FormLayout]
    """Forms with at least one column exported, in layout order."""
    fields: dict[str, list[LayoutField]]
    """Form name -> its exported fields."""
    complete: set[str]
    record_fields: list[str]


class _ExportBase:
    def __init__(
        self,
        user: User,
        spec: ExportSpec,
        layout: RegistryLayout | None = None,
        *,
        release: Release | None = None,
        plan: bool = True,
    ) -> None:
        self.user = user
        self.spec = spec
        self.layout = layout or current_layout()
        self.rows_written = 0
        self.release = release if release is not None else release_for(user)
        self.released: dict[int, Released] | None = None
        self.manifest: Manifest | None = None
        self._check_names()
        if self.release is not None:
            self._check_release_request()
        self.selection = self._select()
        self.filter_node = self._compile_filter()
        self.dag_column = spec.data_access_groups and sites_in_scope(user).count() > 1
        if self.release is not None and plan:
            self._plan_release(self.release)

    def _plan_release(self, release: Release) -> None:
        """A researcher's records: the release's pseudonyms (the `records` asked for are
        pseudonyms of this release), k-anonymity over the patients of the sites the export
        selects, whichever records it asks for (so a record reads the same in every page).

        Afterwards `released` holds exactly the patients the export writes (those asked for,
        if any, that the release does not suppress)."""
        spec = self.spec
        # Read in large chunks and kept by the plan in its own, smaller form: the rows as the
        # database sends them would hold every site's name once per patient.
        patients = export_patients(self.user, sites=spec.sites)
        released, self.manifest = plan_release(
            release,
            patients.iterator(chunk_size=FETCH_CHUNK),
            lesions_by_patient(self.user, self.layout),
        )
        if spec.records:
            wanted = set(spec.records)
            released = {pk: shown for pk, shown in released.items() if shown.pseudonym in wanted}
            registry = dict(patients.filter(pk__in=list(released)).values_list("pk", "pseudonym"))
            # A pseudonym of another release, or of a suppressed patient, matches no one.
            self.spec = replace(spec, records=tuple(registry[pk] for pk in released) or ("",))
        self.released = released

    # -- checking the request

    def _check_names(self) -> None:
        layout, spec = self.layout, self.spec
        unknown_forms = [name for name in spec.forms if name not in layout.by_name]
        if unknown_forms:
            raise ExportError(
                "forms",
                f"not forms of the registry: {', '.join(unknown_forms)}. "
                f"Forms are: {', '.join(layout.by_name)}.",
            )
        known = {
            RECORD_ID,
            *RECORD_FIELDS,
            *layout.fields,
            *(form.complete_column for form in layout.forms),
        }
        unknown = [name for name in spec.fields if name not in known]
        if unknown:
            raise ExportError(
                "fields",
                f"not fields of the registry: {', '.join(unknown)}. "
                "Use the field names of the metadata (checkbox fields without "
                "their ___code suffix).",
            )
        if spec.version is not None and len(spec.forms) != 1:
            raise ExportError(
                "version", "a version number needs exactly one form to belong to; name it in form."
            )

    def _check_release_request(self) -> None:
        # A release carries no update times; narrowed by them, page after page, it would
        # tell each record's last change to the second all the same.
        for parameter, moment in (
            ("dateRangeBegin", self.spec.changed_since),
            ("dateRangeEnd", self.spec.changed_until),
        ):
            if moment is not None:
                raise ExportError(
                    parameter,
                    "a researcher's release carries no update times "
                    "and cannot be narrowed by them either; leave it out.",
                )

    def _select(self) -> _Selection:
        layout, spec = self.layout, self.spec
        everything = not spec.fields and not spec.forms
        wanted = set(spec.fields)
        for name in spec.forms:
            form = layout.by_name[name]
            wanted.update(f.name for f in form.fields)
            wanted.add(form.complete_column)
            if name == layout.first_form:
                wanted.update(RECORD_FIELDS)
        forms, fields, complete = [], {}, set()
        for form in layout.forms:
            chosen = [
                f
                for f in form.fields
                if (everything or f.name in wanted) and may_receive(self.user, f.definitions)
            ]
            has_complete = everything or form.complete_column in wanted
            if chosen or has_complete:
                forms.append(form)
                fields[form.name] = chosen
                if has_complete:
                    complete.add(form.name)
        record_fields = [name for name in RECORD_FIELDS if everything or name in wanted]
        return _Selection(forms, fields, complete, record_fields)

    def _compile_filter(self) -> logic.Node | None:
        source = self.spec.filter_logic.strip()
        if not source:
            return None
        try:
            node = logic.compile_logic(source)
        except logic.LogicSyntaxError as error:
            raise ExportError(
                "filterLogic",
                f"{error}; write it in REDCap's logic syntax, for example [mm_present] = '1'.",
            ) from None
        for reference in logic.reference_nodes(node):
            if isinstance(reference, logic.SmartVariable):
                if reference.name not in (
                    "record-name",
                    "record-dag-name",
                    "current-instance",
                    "instrument-name",
                ):
                    raise ExportError(
                        "filterLogic",
                        f"[{reference.name}] has no value in an "
                        "export; use [record-name], [record-dag-name], "
                        "[current-instance] or [instrument-name].",
                    )
                continue
            if reference.qualified:
                raise ExportError(
                    "filterLogic",
                    f"[{reference.field}] refers to another "
                    "event or instance; filters see one row at a time.",
                )
            name = reference.field
            if name == RECORD_ID or name in RECORD_FIELDS:
                continue
            layout_field = self.layout.fields.get(name)
            if layout_field is None:
                raise ExportError("filterLogic", f"[{name}] is not a field of the registry.")
            if not may_receive(self.user, layout_field.definitions):
                raise ExportError(
                    "filterLogic",
                    f"[{name}] is withheld from your exports, so it cannot be filtered on either.",
                )
        return node

    # -- reading

    def _forms_to_read(self) -> list[FormLayout]:
        forms = {form.name: form for form in self.selection.forms}
        if self.filter_node is not None:
            for name in logic.field_references(self.filter_node):
                layout_field = self.layout.fields.get(name)
                if layout_field is not None:
                    forms.setdefault(layout_field.form, self.layout.by_name[layout_field.form])
        return [form for form in self.layout.forms if form.name in forms]

    def _groups(
        self, *, with_updated_at: bool = False
    ) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
        """(patient, its submissions in form and instance order) for every patient: in
        enrolment order, or a release's in the order of its own pseudonyms (see
        `_released_groups`)."""
        spec = self.spec
        forms = self._forms_to_read()
        version_ids = [pk for form in forms for pk in form.versions]
        order = {pk: index for index, form in enumerate(self.layout.forms) for pk in form.versions}
        if self.released is not None:
            yield from self._released_groups(
                self.released, version_ids, order, with_updated_at=with_updated_at
            )
            return
        patients = export_patients(self.user, sites=spec.sites, records=spec.records)
        submissions = export_submissions(
            self.user,
            version_ids=version_ids,
            sites=spec.sites,
            records=spec.records,
            statuses=spec.statuses,
            version=spec.version,
            changed_since=spec.changed_since,
            changed_until=spec.changed_until,
            with_updated_at=with_updated_at,
        )
        stream = submissions.iterator(chunk_size=CHUNK_SIZE)
        pending = next(stream, None)
        for patient in patients.iterator(chunk_size=CHUNK_SIZE):
            pk = patient[0]
            group = []
            while pending is not None and pending[0] < pk:
                pending = next(stream, None)
            while pending is not None and pending[0] == pk:
                group.append(pending)
                pending = next(stream, None)
            if len(group) > 1:
                group.sort(key=lambda row: (order[row[1]], row[2]))
            yield patient, group

    def _released_groups(
        self,
        released: Mapping[int, Released],
        version_ids: list[int],
        order: Mapping[int, int],
        *,
        with_updated_at: bool,
    ) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
        """A release's patients sorted by its own pseudonyms, not by enrolment: two releases
        of the same patients in the same order would be linked row by row. The plan holds
        them all already; their submissions are read CHUNK_SIZE patients at a time."""
        spec = self.spec
        patients = sorted(released.items(), key=lambda item: item[1].pseudonym)
        for start in range(0, len(patients), CHUNK_SIZE):
            chunk = patients[start : start + CHUNK_SIZE]
            groups: dict[int, list[tuple[Any, ...]]] = {pk: [] for pk, _ in chunk}
            submissions = export_submissions(
                self.user,
                version_ids=version_ids,
                patient_ids=list(groups),
                statuses=spec.statuses,
                version=spec.version,
                changed_since=spec.changed_since,
                changed_until=spec.changed_until,
                with_updated_at=with_updated_at,
            )
            for row in submissions.iterator(chunk_size=CHUNK_SIZE):
                groups[row[0]].append(row)
            for pk, shown in chunk:
                group = groups[pk]
                if len(group) > 1:
                    group.sort(key=lambda row: (order[row[1]], row[2]))
                yield (
                    (
                        pk,
                        shown.pseudonym,
                        shown.site_code,
                        shown.site_name,
                        shown.sex,
                        shown.year_of_birth,
                    ),
                    group,
                )

    def row_estimate(self) -> int:
        """About how many rows the export has (for progress): its submissions and patients."""
        spec = self.spec
        version_ids = [pk for form in self.selection.forms for pk in form.versions]
        submissions = export_submissions(
            self.user,
            version_ids=version_ids,
            sites=spec.sites,
            records=spec.records,
            statuses=spec.statuses,
            version=spec.version,
            changed_since=spec.changed_since,
            changed_until=spec.changed_until,
        ).count()
        if isinstance(self, FlatExport) and self._base_wanted and not spec.filters_submissions:
            return submissions + (
                len(self.released)
                if self.released is not None
                else export_patients(self.user, sites=spec.sites, records=spec.records).count()
            )
        return submissions

    def _filter_record(
        self, patient: tuple[Any, ...], base: Iterable[tuple[Any, ...]]
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            # The record ID field by its name reads as [record-name] does, as in REDCap.
            "record-name": patient[1],
            RECORD_ID: patient[1],
            "record-dag-name": patient[2].lower(),
            SEX: patient[4],
            YEAR_OF_BIRTH: patient[5],
        }
        for row in base:
            record.update(self._harmonised(row[1], row[4]))
        return record

    def _harmonised(self, version_pk: int, data: Mapping[str, Any]) -> dict[str, Any]:
        form = self.layout.form_of_version[version_pk]
        return form.harmonisation.map_data(form.versions[version_pk].number, data)

    def _matches(self, record: Mapping[str, Any]) -> bool:
        assert self.filter_node is not None
        try:
            outcome = logic.evaluate(self.filter_node, record, missing_codes=self._missing_codes)
        except logic.LogicEvaluationError:
            return False
        return logic.truthy(outcome)

    @property
    def _missing_codes(self) -> frozenset[str]:
        return frozenset(code for form in self.layout.forms for code in form.missing_codes)


def check_export_request(user: User, spec: ExportSpec) -> None:
    """Raise ExportError for a request no export could answer, without planning a release
    (an export job checks its request before it is queued, and plans its release when it
    runs)."""
    _ExportBase(user, spec, plan=False)


# --------------------------------------------------------------------------------------------
# Flat: REDCap's layout


@dataclass
class _Plan:
    """How one form version's stored keys land in the flat row."""

    cells: dict[str, tuple[int, Any, Mapping[str, str] | None]] = field(default_factory=dict)
    """Stored key -> (kind, column index or {code: index}, labels or None)."""
    status_index: int | None = None


class FlatExport(_ExportBase):
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


# --------------------------------------------------------------------------------------------
# One typed record per submission: JSON, NDJSON, long CSV


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


class RecordExport(_ExportBase):
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


# --------------------------------------------------------------------------------------------
# Writers: text chunks of a few hundred kilobytes at most


ROWS_PER_CHUNK: Final = 500


def csv_chunks(
    header: Sequence[str], rows: Iterable[Sequence[str]], delimiter: str = ","
) -> Iterator[str]:
    buffer = io.StringIO()
    # Every cell passes the formula rule (registry/csvsafe.py); JSON keeps values as stored.
    writer = SafeWriter(csv.writer(buffer, delimiter=delimiter, lineterminator="\n"))
    writer.writerow(header)
    batch: list[Sequence[str]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= ROWS_PER_CHUNK:
            writer.writerows(batch)
            batch.clear()
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    writer.writerows(batch)
    yield buffer.getvalue()


def json_chunks(items: Iterable[Any]) -> Iterator[str]:
    """A JSON array, written as it goes."""
    pieces = ["["]
    separator = ""
    for item in items:
        pieces.append(separator + json.dumps(item, ensure_ascii=False))
        separator = ",\n"
        if len(pieces) >= ROWS_PER_CHUNK:
            yield "".join(pieces)
            pieces.clear()
    pieces.append("]\n")
    yield "".join(pieces)


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value: Any) -> str:
    """A value as REDCap's XML holds it: in CDATA, with what XML 1.0 cannot hold dropped."""
    text = _XML_ILLEGAL.sub("", value if isinstance(value, str) else typed_text(value))
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def xml_chunks(items: Iterable[Mapping[str, Any]], root: str = "records") -> Iterator[str]:
    """REDCap's XML: `<records><item><name><![CDATA[value]]></name>...</item></records>`.
    The keys are column names (letters, digits and underscores), so they are element names."""
    pieces = [f'<?xml version="1.0" encoding="UTF-8" ?>\n<{root}>\n']
    for item in items:
        pieces.append(
            "<item>"
            + "".join(f"<{key}>{xml_text(value)}</{key}>" for key, value in item.items())
            + "</item>\n"
        )
        if len(pieces) >= ROWS_PER_CHUNK:
            yield "".join(pieces)
            pieces.clear()
    pieces.append(f"</{root}>\n")
    yield "".join(pieces)


def ndjson_chunks(items: Iterable[Any]) -> Iterator[str]:
    pieces = []
    for item in items:
        pieces.append(json.dumps(item, ensure_ascii=False) + "\n")
        if len(pieces) >= ROWS_PER_CHUNK:
            yield "".join(pieces)
            pieces.clear()
    yield "".join(pieces)


# --------------------------------------------------------------------------------------------
# The research exports offered by the REST API and export jobs


@dataclass(frozen=True)
class Shape:
    name: str
    media_type: str
    extension: str
    chunks: Callable[[User, ExportSpec, Release | None], tuple[_ExportBase, Iterator[str]]]


_Made = tuple[_ExportBase, Iterator[str]]


def _flat_csv(user: User, spec: ExportSpec, release: Release | None) -> _Made:
    from .pgcopy import can_copy, copy_chunks

    export = FlatExport(user, spec, release=release)
    if can_copy(export):
        return export, copy_chunks(export)
    return export, csv_chunks(export.header(), export.rows(), spec.csv_delimiter)


def _flat_json(user: User, spec: ExportSpec, release: Release | None) -> _Made:
    export = FlatExport(user, spec, release=release)
    return export, json_chunks(export.dicts())


def _flat_xml(user: User, spec: ExportSpec, release: Release | None) -> _Made:
    export = FlatExport(user, spec, release=release)
    # Element names are the columns' names, whatever rawOrLabelHeaders says (as REDCap's).
    return export, xml_chunks(dict(zip(export.columns, row, strict=True)) for row in export.rows())


def _eav(writer: str) -> Callable[[User, ExportSpec, Release | None], _Made]:
    def chunks(user: User, spec: ExportSpec, release: Release | None) -> _Made:
        # A form never filled has no values, so no status either.
        export = FlatExport(user, replace(spec, blank_for_gray=True), release=release)
        items = export.eav_items()
        if writer == "json":
            return export, json_chunks(items)
        if writer == "xml":
            return export, xml_chunks(items)
        keys = [
            "record",
            *((REPEAT_INSTRUMENT, REPEAT_INSTANCE) if export.layout.any_repeating else ()),
            "field_name",
            "value",
        ]
        return export, csv_chunks(
            keys, ([str(item[key]) for key in keys] for item in items), spec.csv_delimiter
        )

    return chunks


def _long_csv(user: User, spec: ExportSpec, release: Release | None) -> _Made:
    export = RecordExport(user, spec, release=release)
    return export, csv_chunks(LONG_HEADER, long_rows(export.records()))


def _json(user: User, spec: ExportSpec, release: Release | None) -> _Made:
    export = RecordExport(user, spec, release=release)
    return export, json_chunks(record.as_json() for record in export.records())


def _ndjson(user: User, spec: ExportSpec, release: Release | None) -> _Made:
    export = RecordExport(user, spec, release=release)
    return export, ndjson_chunks(record.as_json() for record in export.records())


SHAPES: Final[Mapping[str, Shape]] = {
    shape.name: shape
    for shape in (
        Shape("flat-csv", "text/csv", "csv", _flat_csv),
        Shape("flat-json", "application/json", "json", _flat_json),
        Shape("long-csv", "text/csv", "csv", _long_csv),
        Shape("json", "application/json", "json", _json),
        Shape("ndjson", "application/x-ndjson", "ndjson", _ndjson),
    )
}

REDCAP_SHAPES: Final[Mapping[str, Shape]] = {
    shape.name: shape
    for shape in (
        Shape("flat-xml", "text/xml", "xml", _flat_xml),
        Shape("eav-json", "application/json", "json", _eav("json")),
        Shape("eav-csv", "text/csv", "csv", _eav("csv")),
        Shape("eav-xml", "text/xml", "xml", _eav("xml")),
    )
}
"""The REDCap API's other layouts (format=xml, type=eav); not offered by the REST API."""
