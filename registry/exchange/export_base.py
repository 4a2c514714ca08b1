"""What every export shares: its request checked, its columns selected, its filter compiled,
its release planned, and the registry's patients read with their submissions.

`BaseExport` reads the database through the export selectors in chunks, walks patients and
submissions side by side, and holds one patient's rows at a time, so memory stays flat however
many rows there are. Its subclasses lay the rows out: `FlatExport` (flat_export.py) as REDCap
does, `RecordExport` (record_export.py) one typed record per submission.

Every export applies the de-identification rule of `release.py` for the person it is for.
An export to a researcher is a release (`release.py`): its records carry the release's own
pseudonyms, no timestamps, and the record fields that k-anonymity allows (`anonymity.py`);
patients it suppresses are left out.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from django.db.models import QuerySet

from registry.formengine import logic
from registry.people.access import sites_in_scope
from registry.people.models import User

from .anonymity import FETCH_CHUNK, Manifest, Released, lesions_by_patient, plan_release
from .export_spec import ExportError, ExportSpec
from .layout import (
    RECORD_FIELDS,
    RECORD_ID,
    SEX,
    YEAR_OF_BIRTH,
    FormLayout,
    LayoutField,
    RegistryLayout,
    current_layout,
)
from .release import Release, may_receive, release_for
from .selectors import export_patients, export_submissions

CHUNK_SIZE: Final = 2000
"""Rows fetched from the database at a time."""


@dataclass
class _Selection:
    forms: list[FormLayout]
    """Forms with at least one column exported, in layout order."""
    fields: dict[str, list[LayoutField]]
    """Form name -> its exported fields."""
    complete: set[str]
    record_fields: list[str]


class BaseExport:
    """An export request, checked against the registry's layout and the person it is for,
    and the reading its subclasses lay out as rows."""

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
        submissions = self.submissions_asked(version_ids, with_updated_at=with_updated_at)
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

    def submissions_asked(
        self, version_ids: Collection[int], *, with_updated_at: bool = False
    ) -> QuerySet[Any]:
        """The submissions of `version_ids` that the request's sites, records, statuses,
        version and times select, as tuples of the selectors' columns."""
        spec = self.spec
        return export_submissions(
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

    def row_estimate(self) -> int:
        """About how many rows the export has (for progress): its submissions and patients."""
        spec = self.spec
        version_ids = [pk for form in self.selection.forms for pk in form.versions]
        submissions = self.submissions_asked(version_ids).count()
        if self._has_record_rows() and not spec.filters_submissions:
            return submissions + (
                len(self.released)
                if self.released is not None
                else export_patients(self.user, sites=spec.sites, records=spec.records).count()
            )
        return submissions

    def _has_record_rows(self) -> bool:
        """Whether the export writes a row per patient besides its submissions' rows (the flat
        layout's row of the non-repeating forms), which `row_estimate` counts."""
        return False

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
    BaseExport(user, spec, plan=False)
