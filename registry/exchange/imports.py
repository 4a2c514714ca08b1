"""Importing records in REDCap's flat layout: every row checked, then all written, or none.

A batch is a list of rows keyed by column (`record_id`, the repeat columns, `sex`,
`year_of_birth`, field names under their harmonised names, `field___code` checkbox columns,
`<form>_complete`). The record ID is the patient's pseudonym; with `force_auto_number` it is the
site's local hospital ID instead, hashed into the pseudonym by `do_enrol_patients_bulk` and
never kept or repeated back (problems name the row instead).

Each row's values are laid over what is stored (`normal`: blanks leave values alone;
`overwrite`: blanks erase them), mapped onto the names of the version the instance was filled
on, and handed to `do_save_submissions_bulk`, which validates every submission with the form
engine before anything is written. Any problem anywhere rejects the whole batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from registry.audit.services import record_event
from registry.crfs.models import FormVersion
from registry.crfs.selectors import schema_of
from registry.cyclic_gc import cyclic_gc_paused
from registry.formengine.schema import checkbox_column
from registry.patients.models import Patient
from registry.patients.selectors import visible_patients, with_pseudonyms
from registry.patients.services import (
    EnrolmentRefused,
    NewPatient,
    do_enrol_patients_bulk,
    do_update_patient,
    pseudonym_for,
)
from registry.people.access import can_enter_data, sites_in_scope
from registry.people.models import Site, User
from registry.submissions.models import Status, Submission
from registry.submissions.services import BulkItem, BulkSaveRefused, do_save_submissions_bulk

from .layout import (
    DATA_ACCESS_GROUP,
    EVENT_NAME,
    RECORD_FIELDS,
    RECORD_ID,
    REPEAT_INSTANCE,
    REPEAT_INSTRUMENT,
    SEX,
    STATUS_OF_CODE,
    YEAR_OF_BIRTH,
    FormLayout,
    RegistryLayout,
    current_layout,
)

_KEY_COLUMNS: Final = frozenset(
    {
        RECORD_ID,
        REPEAT_INSTRUMENT,
        REPEAT_INSTANCE,
        DATA_ACCESS_GROUP,
        EVENT_NAME,
        "redcap_survey_identifier",
    }
)
_STATUS_WORDS: Final = {
    "incomplete": Status.INCOMPLETE,
    "unverified": Status.UNVERIFIED,
    "complete": Status.COMPLETE,
}
_LOOKUP_CHUNK: Final = 2000
# How checkbox columns usually arrive (text from CSV and most clients, numbers from some JSON).
_TICKS: Final[Mapping[Any, bool]] = {"1": True, "0": False, 1: True, 0: False}
MAX_PROBLEMS_SHOWN: Final = 100


@dataclass(frozen=True)
class ImportProblem:
    record: str
    field: str
    message: str

    def line(self) -> str:
        return ",".join(
            '"' + part.replace('"', '""') + '"' for part in (self.record, self.field, self.message)
        )


class ImportRejected(Exception):
    """The batch was refused and nothing was saved. `problems` names record and field."""

    def __init__(self, problems: Sequence[ImportProblem]) -> None:
        self.problems = list(problems)
        super().__init__(self.text())

    def text(self) -> str:
        shown = [problem.line() for problem in self.problems[:MAX_PROBLEMS_SHOWN]]
        more = len(self.problems) - len(shown)
        if more:
            shown.append(f"... and {more} more")
        count = len(self.problems)
        return (
            f"The import was rejected and nothing was saved: {count} "
            f"problem{'s' if count != 1 else ''} (record, field, message).\n" + "\n".join(shown)
        )


@dataclass(frozen=True)
class ImportOptions:
    overwrite: bool = False
    """REDCap's overwriteBehavior=overwrite: a blank erases the stored value."""
    force_auto_number: bool = False
    """The record ID is a local hospital ID: find or enrol the patient it stands for."""


@dataclass
class ImportResult:
    records: list[str] = field(default_factory=list)
    """Pseudonyms of the batch's records, in the order they first appear."""
    positions: list[int] = field(default_factory=list)
    """For each record, its place among the batch's record IDs (1 = the first one)."""
    patients_created: int = 0
    submissions_created: int = 0
    submissions_updated: int = 0


@dataclass
class _Record:
    key: str
    """The record ID as sent (a pseudonym, or a local ID under auto-numbering: never shown)."""
    first_row: int
    position: int
    site: Site | None = None
    pseudonym: str = ""
    patient: Patient | None = None
    sex: Any = None
    year_of_birth: Any = None

    @property
    def label(self) -> str:
        return self.pseudonym if self.patient is not None else f"row {self.first_row}"


@dataclass
class _Target:
    record: _Record
    form: FormLayout
    instance: int | None
    """None: a new instance (redcap_repeat_instance=new)."""
    row: int
    values: dict[str, Any] = field(default_factory=dict)
    """Column -> value as sent, only this form's columns."""


@cyclic_gc_paused()
def do_import_records(
    actor: User,
    rows: Sequence[Mapping[str, Any]],
    options: ImportOptions,
    layout: RegistryLayout | None = None,
) -> ImportResult:
    """Import a batch of flat rows for `actor`; raises ImportRejected (nothing saved) or
    PermissionDenied (the actor enters no data)."""
    entry_sites = {
        site.code.lower(): site for site in sites_in_scope(actor) if can_enter_data(actor, site)
    }
    if not entry_sites:
        raise PermissionDenied(
            "Only site coordinators (for their own sites) and administrators import records; "
            "your role reads data only."
        )
    layout = layout or current_layout()
    _check_columns(rows, layout)
    job = _Import(actor, options, layout, entry_sites)
    return job.run(rows)


def _check_columns(rows: Sequence[Mapping[str, Any]], layout: RegistryLayout) -> None:
    known = {
        *_KEY_COLUMNS,
        *RECORD_FIELDS,
        *layout.fields,
        *layout.checkbox_columns,
        *(form.complete_column for form in layout.forms),
    }
    unknown: dict[str, None] = {}
    for row in rows:
        if not isinstance(row, Mapping):
            raise ImportRejected(
                [
                    ImportProblem(
                        "",
                        "",
                        "Each record must be a set of column names and values (a JSON object).",
                    )
                ]
            )
        for key in row:
            if key not in known:
                unknown[str(key)] = None
    if unknown:
        raise ImportRejected(
            [
                ImportProblem(
                    "",
                    name,
                    "not a field of the registry; use the field names of the "
                    "metadata (checkbox options as field___code, statuses as "
                    "<form>_complete).",
                )
                for name in unknown
            ]
        )


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _unticked(value: Any) -> bool:
    return _blank(value) or _text(value) == "0"


class _Import:
    def __init__(
        self,
        actor: User,
        options: ImportOptions,
        layout: RegistryLayout,
        entry_sites: Mapping[str, Site],
    ) -> None:
        self.actor = actor
        self.options = options
        self.layout = layout
        self.entry_sites = entry_sites
        self.problems: list[ImportProblem] = []
        self.column_form: dict[str, FormLayout] = {}
        for form in layout.forms:
            self.column_form[form.complete_column] = form
            for layout_field in form.fields:
                self.column_form[layout_field.name] = form
                for column in layout_field.columns:
                    self.column_form[column] = form
        self._version_maps: dict[int, tuple[dict[str, str], dict[str, tuple[str, str]]]] = {}
        # Looked up for every row and column of a batch: worked out once here.
        self.complete_columns = {form.name: form.complete_column for form in layout.forms}
        self.single_forms = [form for form in layout.forms if not form.repeatable]
        self._option_codes: dict[tuple[int, str], Sequence[str]] = {}
        # Patients this import enrolled: they have no submissions yet to look up.
        self.enrolled: set[int] = set()

    def problem(self, record: str, column: str, message: str) -> None:
        self.problems.append(ImportProblem(record, column, message))

    # -- the whole batch

    def run(self, rows: Sequence[Mapping[str, Any]]) -> ImportResult:
        records: dict[str, _Record] = {}
        targets: dict[tuple[str, str, Any], _Target] = {}
        for number, row in enumerate(rows, start=1):
            self.read_row(number, row, records, targets)
        self.resolve_records(records)
        # Problems so far do not stop here: the rows of the records that were found are still
        # validated below, so that one answer lists everything to correct.
        result = ImportResult()
        with transaction.atomic():
            self.enrol_and_update(records.values(), result)
            items, owners = self.build_items(targets.values())
            try:
                outcomes = (
                    do_save_submissions_bulk(self.actor, items, new_patients=self.enrolled)
                    if items
                    else []
                )
            except BulkSaveRefused as refused:
                for index, errors in refused.errors.items():
                    target = owners[index]
                    for column, messages in errors.items():
                        for message in messages:
                            self.problem(
                                target.record.label,
                                self.column_name(target, column),
                                f"{message} (row {target.row})",
                            )
                outcomes = []
            except ValidationError as error:
                for column, messages in error.message_dict.items():
                    for message in messages:
                        self.problem("", column, message)
                outcomes = []
            if self.problems:
                # Leaving the atomic block by an exception undoes the enrolments too.
                raise ImportRejected(self.problems)
            for outcome in outcomes:
                if outcome.created:
                    result.submissions_created += 1
                else:
                    result.submissions_updated += 1
            ordered = sorted(records.values(), key=lambda record: record.position)
            result.records = [record.pseudonym for record in ordered]
            result.positions = [record.position for record in ordered]
            record_event(
                self.actor,
                "redcap.import",
                None,
                context={
                    "rows": len(rows),
                    "records": len(records),
                    "patients_created": result.patients_created,
                    "submissions_created": result.submissions_created,
                    "submissions_updated": result.submissions_updated,
                    "overwrite": self.options.overwrite,
                    "auto_number": self.options.force_auto_number,
                },
            )
        return result

    # -- reading rows

    def read_row(
        self,
        number: int,
        row: Mapping[str, Any],
        records: dict[str, _Record],
        targets: dict[tuple[str, str, Any], _Target],
    ) -> None:
        key = _text(row.get(RECORD_ID))
        if not key:
            self.problem(
                f"row {number}",
                RECORD_ID,
                "Every row needs a record ID: the "
                "pseudonym, or with forceAutoNumber the local hospital ID.",
            )
            return
        if self.options.force_auto_number:
            key = "".join(key.split()).upper()
        record = records.get(key)
        shown = f"row {number}" if self.options.force_auto_number else key
        if record is None:
            record = records[key] = _Record(key, number, len(records) + 1)
        if not _blank(row.get(EVENT_NAME)):
            self.problem(
                shown,
                EVENT_NAME,
                "The registry is a classic project without events; leave redcap_event_name blank.",
            )
        dag = _text(row.get(DATA_ACCESS_GROUP)).lower()
        if dag:
            site = self.entry_sites.get(dag)
            if site is None:
                self.problem(
                    shown,
                    DATA_ACCESS_GROUP,
                    f"'{dag}' is not a data access group you "
                    "enter data for; yours are: " + ", ".join(sorted(self.entry_sites)) + ".",
                )
            elif record.site is not None and record.site != site:
                self.problem(
                    shown,
                    DATA_ACCESS_GROUP,
                    "The rows of one record name different data access groups.",
                )
            else:
                record.site = site
        for name in RECORD_FIELDS:
            value = row.get(name)
            if _blank(value):
                continue
            current = getattr(record, name)
            if current is not None and _text(current) != _text(value):
                self.problem(
                    shown, name, f"The rows of one record give different values for {name}."
                )
            setattr(record, name, value)

        form, instance = self.repeat_of(number, row, shown)
        if form is False:
            return
        allowed = [form] if form is not None else self.single_forms
        checkbox_columns = self.layout.checkbox_columns
        for column, value in row.items():
            if column in _KEY_COLUMNS or column in RECORD_FIELDS:
                continue
            owner = self.column_form[column]
            if owner not in allowed:
                if _blank(value) or (
                    _unticked(value)
                    and (column in checkbox_columns or column == self.complete_columns[owner.name])
                ):
                    continue
                where = (
                    f"give redcap_repeat_instrument={owner.name} and an instance"
                    if owner.repeatable
                    else "send it on the record's row with blank repeat columns"
                )
                self.problem(
                    shown,
                    column,
                    f"{column} belongs to instrument {owner.name}, not to "
                    f"this row's instrument; {where}.",
                )
                continue
            target_instance: Any = instance if form is not None else 1
            if target_instance is None:
                target_instance = ("new", number)
            target_key = (key, owner.name, target_instance)
            target = targets.get(target_key)
            if target is None:
                target = targets[target_key] = _Target(
                    record,
                    owner,
                    None if isinstance(target_instance, tuple) else target_instance,
                    number,
                )
            elif target.row != number:
                self.problem(
                    shown,
                    column,
                    f"Instrument {owner.name}"
                    + (f" instance {target_instance}" if owner.repeatable else "")
                    + f" of this record is also on row {target.row}; send it once.",
                )
                continue
            target.values[column] = value

    def repeat_of(self, number: int, row: Mapping[str, Any], shown: str) -> tuple[Any, int | None]:
        """(form, instance) of a repeating row, (None, None) for the record's own row,
        (False, None) after a problem."""
        instrument = _text(row.get(REPEAT_INSTRUMENT))
        instance_text = _text(row.get(REPEAT_INSTANCE))
        if not instrument:
            if instance_text and instance_text != "1":
                self.problem(
                    shown,
                    REPEAT_INSTANCE,
                    "redcap_repeat_instance needs "
                    "redcap_repeat_instrument: name the repeating instrument.",
                )
                return False, None
            return None, None
        form = self.layout.by_name.get(instrument)
        if form is None or not form.repeatable:
            repeating = ", ".join(f.name for f in self.layout.forms if f.repeatable)
            self.problem(
                shown,
                REPEAT_INSTRUMENT,
                f"'{instrument}' is not a repeating "
                f"instrument; the repeating ones are: {repeating}.",
            )
            return False, None
        if instance_text.lower() == "new":
            return form, None
        if instance_text.isdigit() and int(instance_text) >= 1:
            return form, int(instance_text)
        self.problem(
            shown,
            REPEAT_INSTANCE,
            "redcap_repeat_instance must be a number from 1, or new to add an instance.",
        )
        return False, None

    # -- records

    def resolve_records(self, records: Mapping[str, _Record]) -> None:
        if self.options.force_auto_number:
            self.resolve_auto_numbered(records)
            return
        found: dict[str, Patient] = {}
        keys = list(records)
        for start in range(0, len(keys), _LOOKUP_CHUNK):
            for patient in with_pseudonyms(
                visible_patients(self.actor), keys[start : start + _LOOKUP_CHUNK]
            ):
                found[patient.pseudonym] = patient
        for key, record in records.items():
            patient = found.get(key)
            if patient is None:
                self.problem(
                    key,
                    RECORD_ID,
                    "No such record among those you can see. New "
                    "patients are created with forceAutoNumber=true, the local "
                    "hospital ID as record ID, and sex and year_of_birth.",
                )
                continue
            if patient.site.code.lower() not in self.entry_sites:
                self.problem(key, RECORD_ID, f"You do not enter data for site {patient.site.code}.")
                continue
            if record.site is not None and record.site.pk != patient.site_id:
                self.problem(
                    key,
                    DATA_ACCESS_GROUP,
                    f"The record belongs to data access group "
                    f"{patient.site.code.lower()}; records do not move between sites.",
                )
                continue
            record.patient, record.pseudonym, record.site = patient, key, patient.site

    def resolve_auto_numbered(self, records: Mapping[str, _Record]) -> None:
        several = len(self.entry_sites) > 1
        for record in records.values():
            if record.site is None:
                if several:
                    self.problem(
                        f"row {record.first_row}",
                        DATA_ACCESS_GROUP,
                        "You enter data for several sites ("
                        + ", ".join(sorted(self.entry_sites))
                        + "): say which in redcap_data_access_group.",
                    )
                    continue
                record.site = next(iter(self.entry_sites.values()))
            record.pseudonym = pseudonym_for(record.site, record.key)
        pseudonyms = [record.pseudonym for record in records.values() if record.pseudonym]
        found = {}
        for start in range(0, len(pseudonyms), _LOOKUP_CHUNK):
            for patient in with_pseudonyms(
                visible_patients(self.actor), pseudonyms[start : start + _LOOKUP_CHUNK]
            ):
                found[patient.pseudonym] = patient
        for record in records.values():
            record.patient = found.get(record.pseudonym)
            if record.patient is None and record.pseudonym:
                for name in RECORD_FIELDS:
                    if getattr(record, name) is None:
                        self.problem(
                            record.label,
                            name,
                            f"A new patient needs {name}"
                            + (
                                " (male, female, undetermined or unknown)."
                                if name == SEX
                                else " (four digits, for example 2016)."
                            ),
                        )

    def enrol_and_update(self, records: Iterable[_Record], result: ImportResult) -> None:
        new: list[_Record] = []
        for record in records:
            if record.patient is None:
                if self.options.force_auto_number and record.site and record.pseudonym:
                    new.append(record)
                continue  # not found, already reported
            try:
                patient = record.patient
                sex = _text(record.sex).lower() if record.sex is not None else patient.sex
                year = (
                    _year(record.year_of_birth)
                    if record.year_of_birth is not None
                    else patient.year_of_birth
                )
                if (sex, year) != (patient.sex, patient.year_of_birth):
                    do_update_patient(self.actor, patient, sex=sex, year_of_birth=year)
            except ValidationError as error:
                for column, messages in error.message_dict.items():
                    for message in messages:
                        self.problem(record.label, column, message)
            except ValueError:
                self.problem(
                    record.label,
                    YEAR_OF_BIRTH,
                    "year_of_birth must be a year of four digits, for example 2016.",
                )
        self.enrol(new, result)

    def enrol(self, records: list[_Record], result: ImportResult) -> None:
        """Enrol the batch's new patients together; a problem names the row, never the ID."""
        wanted: list[NewPatient] = []
        owners: list[_Record] = []
        for record in records:
            assert record.site is not None
            try:
                year = _year(record.year_of_birth)
            except ValueError:
                self.problem(
                    record.label,
                    YEAR_OF_BIRTH,
                    "year_of_birth must be a year of four digits, for example 2016.",
                )
                continue
            wanted.append(NewPatient(record.site, record.key, _text(record.sex).lower(), year))
            owners.append(record)
        if not wanted:
            return
        # Enrolled even when other rows have problems (the transaction undoes it), so that
        # the new records' rows are validated too and one answer lists everything.
        try:
            enrolments = do_enrol_patients_bulk(self.actor, wanted)
        except EnrolmentRefused as refused:
            self.report_refused(refused, owners)
            return
        except ValidationError as error:
            for column, messages in error.message_dict.items():
                for message in messages:
                    self.problem("", column, message)
            return
        for record, enrolment in zip(owners, enrolments, strict=True):
            record.patient = enrolment.patient
            result.patients_created += int(enrolment.created)
            if enrolment.created:
                self.enrolled.add(enrolment.patient.pk)

    def report_refused(self, refused: EnrolmentRefused, owners: list[_Record]) -> None:
        for index, errors in refused.errors.items():
            for column, messages in errors.items():
                for message in messages:
                    self.problem(owners[index].label, column, message)

    # -- submissions

    def build_items(self, targets: Iterable[_Target]) -> tuple[list[BulkItem], list[_Target]]:
        targets = [t for t in targets if t.record.patient is not None]
        existing = self.existing_submissions(targets)
        items: list[BulkItem] = []
        owners: list[_Target] = []
        for target in targets:
            assert target.record.patient is not None
            current = (
                existing.get((target.record.patient.pk, target.form.name, target.instance))
                if target.instance is not None
                else None
            )
            item = self.item_for(target, current)
            if item is not None:
                items.append(item)
                owners.append(target)
        return items, owners

    def existing_submissions(
        self, targets: Sequence[_Target]
    ) -> dict[tuple[int, str, int], Submission]:
        named = [t for t in targets if t.instance is not None and t.record.patient]
        patient_ids = sorted(
            {t.record.patient.pk for t in named if t.record.patient} - self.enrolled
        )
        form_names = {t.form.name for t in named}
        found: dict[tuple[int, str, int], Submission] = {}
        for start in range(0, len(patient_ids), _LOOKUP_CHUNK):
            # Versions come from the layout: loading one per row would decode its whole
            # schema again for every submission.
            for submission in Submission.objects.filter(
                patient_id__in=patient_ids[start : start + _LOOKUP_CHUNK],
                form__name__in=form_names,
            ).select_related("form"):
                form = self.layout.form_of_version[submission.form_version_id]
                submission.form_version = form.versions[submission.form_version_id]
                found[(submission.patient_id, submission.form.name, submission.instance)] = (
                    submission
                )
        return found

    def item_for(self, target: _Target, current: Submission | None) -> BulkItem | None:
        form = target.form
        values = target.values
        overwrite = self.options.overwrite
        complete = self.complete_columns[form.name]
        status_value = values.get(complete)
        if current is None:
            checkbox_columns = self.layout.checkbox_columns
            meaningful = any(
                not (_unticked(value) if column in checkbox_columns else _blank(value))
                for column, value in values.items()
                if column != complete
            )
            if not meaningful and not _status_creates(form, status_value):
                return None
        elif not overwrite and all(_blank(values[c]) for c in values):
            return None

        version = current.form_version if current is not None else form.latest
        status = self.status(target, status_value, current)
        if status is None:
            return None
        data = self.merged_data(target, version, current)
        if data is None:
            return None
        assert target.record.patient is not None
        return BulkItem(
            patient=target.record.patient,
            form_version=version,
            data=data,
            status=status,
            instance=current.instance if current is not None else target.instance,
            expected_row_version=current.row_version if current is not None else None,
        )

    def status(self, target: _Target, value: Any, current: Submission | None) -> str | None:
        if _blank(value):
            return current.status if current is not None else Status.INCOMPLETE
        text = _text(value)
        status = STATUS_OF_CODE.get(text) or _STATUS_WORDS.get(text.lower())
        if status is None:
            self.problem(
                target.record.label,
                target.form.complete_column,
                f"must be 0 (Incomplete), 1 (Unverified) or 2 (Complete); you sent "
                f"'{text[:20]}' (row {target.row}).",
            )
        return status

    def version_maps(
        self, form: FormLayout, version: FormVersion
    ) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
        """Harmonised field -> name in `version`; checkbox column -> (name in version, code)."""
        maps = self._version_maps.get(version.pk)
        if maps is None:
            names: dict[str, str] = {}
            boxes: dict[str, tuple[str, str]] = {}
            for layout_field in form.fields:
                name = layout_field.names.get(version.number)
                if name is None:
                    continue
                names[layout_field.name] = name
                if layout_field.is_checkbox:
                    for code, column in zip(layout_field.codes, layout_field.columns, strict=True):
                        boxes[column] = (name, code)
            maps = self._version_maps[version.pk] = (names, boxes)
        return maps

    def merged_data(
        self, target: _Target, version: FormVersion, current: Submission | None
    ) -> dict[str, Any] | None:
        form, label = target.form, target.record.label
        names, boxes = self.version_maps(form, version)
        overwrite = self.options.overwrite
        complete = self.complete_columns[form.name]
        checkbox_columns = self.layout.checkbox_columns
        data: dict[str, Any] = dict(current.data) if current is not None else {}
        ticks: dict[str, dict[str, Any]] = {}
        ok = True
        for column, value in target.values.items():
            if column == complete:
                continue
            box = boxes.get(column)
            if box is not None:
                ticks.setdefault(box[0], {})[box[1]] = value
                continue
            if column in checkbox_columns:
                if not _unticked(value):
                    ok = False
                    self.problem(
                        label,
                        column,
                        f"not an option of {form.name} version "
                        f"{version.number}, on which this instance was filled "
                        f"(row {target.row}).",
                    )
                continue
            name = names.get(column)
            if name is None:
                if not _blank(value):
                    ok = False
                    self.problem(
                        label,
                        column,
                        f"not a field of {form.name} version "
                        f"{version.number}, on which this instance was filled "
                        f"(row {target.row}).",
                    )
                continue
            if not _blank(value):
                data[name] = value
            elif overwrite:
                data.pop(name, None)
        for name, sent in ticks.items():
            self.merge_checkbox(self.option_codes(version, name), form, name, sent, data)
        return data if ok else None

    def option_codes(self, version: FormVersion, name: str) -> Sequence[str]:
        codes = self._option_codes.get((version.pk, name))
        if codes is None:
            codes = self._option_codes[(version.pk, name)] = (
                schema_of(version).field(name).choice_codes
            )
        return codes

    def merge_checkbox(
        self,
        option_codes: Sequence[str],
        form: FormLayout,
        name: str,
        sent: Mapping[str, Any],
        data: dict[str, Any],
    ) -> None:
        """Lay a row's `name___code` columns over the stored answer of checkbox `name`."""
        stored = data.pop(name, None)
        missing = [
            code
            for code, value in sent.items()
            if code in form.missing_codes and code not in option_codes and not _unticked(value)
        ]
        if missing:
            # A missing-data code stands for the whole question; ticked options alongside it
            # reach the form engine, which refuses the combination by name.
            data[name] = missing[0] if len(missing) == 1 else list(missing)
            for code in option_codes:
                if code in sent and not _unticked(sent[code]):
                    data[_column(name, code)] = sent[code]
            return
        if (
            isinstance(stored, str)
            and not self.options.overwrite
            and all(_unticked(sent[code]) for code in option_codes if code in sent)
        ):
            data[name] = stored
            return
        ticked = set(stored) if isinstance(stored, list) else set()
        chosen = self.chosen_codes(option_codes, sent, ticked)
        if chosen is not None:
            if chosen:
                data[name] = chosen
            return
        # A value other than 0 or 1: the form engine reads the columns and names the one it
        # refuses.
        for code in option_codes:
            value = sent.get(code)
            if value is None or (_blank(value) and not self.options.overwrite):
                data[_column(name, code)] = "1" if code in ticked else "0"
            else:
                data[_column(name, code)] = "0" if _blank(value) else value

    def chosen_codes(
        self, option_codes: Sequence[str], sent: Mapping[str, Any], ticked: set[str]
    ) -> list[str] | None:
        """The ticked options once `sent` (code -> 1, 0 or blank) is laid over `ticked`, as the
        list the form engine takes; None when a value is not plainly 1 or 0."""
        overwrite = self.options.overwrite
        chosen = []
        for code in option_codes:
            value = sent.get(code)
            if value is None or (not overwrite and _blank(value)):
                state = code in ticked
            else:
                state = (
                    False
                    if _blank(value)
                    else _TICKS.get(value)
                    if isinstance(value, str | int | float)
                    else None
                )
                if state is None:
                    return None
            if state:
                chosen.append(code)
        return chosen

    def column_name(self, target: _Target, key: str) -> str:
        """An engine error's key (a field name in the instance's version) as a column name."""
        if key == "__all__":
            return target.form.name
        for layout_field in target.form.fields:
            if key in layout_field.names.values():
                return layout_field.name
        return key


def _status_creates(form: FormLayout, value: Any) -> bool:
    """Whether `<form>_complete` alone creates a submission: always for a repeating
    instance, which the row names; for a form of the record's own row, only a status other
    than 0, since 0 is what exports write for a form never filled."""
    if _blank(value):
        return False
    return form.repeatable or _text(value).lower() not in ("0", "incomplete")


@lru_cache(maxsize=4096)
def _column(name: str, code: str) -> str:
    return checkbox_column(name, code)


def _year(value: Any) -> int | None:
    if value is None:
        return None
    text = _text(value)
    if not (text.isdigit() and len(text) == 4):
        raise ValueError(text)
    return int(text)
