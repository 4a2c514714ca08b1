"""Synthetic patients written to the registry: `do_generate_synthetic` writes the patients of
`synthetic_patients.iter_patients` through the same bulk services as an import
(`do_enrol_patients_bulk`, `do_save_submissions_bulk`): every submission validated by the form
engine and audited, in bulk inserts, so that a million submissions take minutes, not hours.

What the patients hold is told in `clinical_values.py` (the answers of each form) and
`planted_mistakes.py` (the deliberate mistakes the quality checks must find).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from registry.audit.actions import Action
from registry.audit.services import event_row, record_event, record_events
from registry.crfs.models import FormVersion
from registry.crfs.selectors import schema_of
from registry.formengine.validation import validate_submission
from registry.patients.services import NewPatient, do_enrol_patients_bulk
from registry.people.models import Site, User
from registry.submissions.models import Submission
from registry.submissions.services import BulkItem, BulkSaveRefused, do_save_submissions_bulk

from .synthetic_patients import DEFAULT_ERROR_SHARE, iter_patients
from .synthetic_records import SyntheticPatient, SyntheticSubmission


@dataclass
class GenerationReport:
    patients: int = 0
    submissions: int = 0
    skipped_existing: int = 0
    planted: Counter[str] = field(default_factory=Counter)
    patients_with_errors: int = 0

    @property
    def error_share(self) -> float:
        return self.patients_with_errors / self.patients if self.patients else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "patients": self.patients,
            "submissions": self.submissions,
            "skipped_existing": self.skipped_existing,
            "patients_with_errors": self.patients_with_errors,
            "error_share": round(self.error_share, 4),
            "planted": dict(sorted(self.planted.items())),
        }


class SyntheticDataInvalid(Exception):
    """A generated submission failed the form's validation: a bug in the generator."""


@transaction.atomic
def do_generate_synthetic(
    actor: User | None,
    sites: Sequence[Site],
    *,
    patients: int,
    seed: int = 0,
    error_share: float = DEFAULT_ERROR_SHARE,
    batch_size: int = 1000,
    reference_year: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> GenerationReport:
    """Generate `patients` synthetic patients across `sites`, validated, in bulk inserts.

    Patients already present (same seed, same index) are left alone, so running it again
    adds nothing. One audit event records the whole generation. `progress(done, total)` is
    called after every batch.
    """
    if patients < 0:
        raise ValueError("The number of patients cannot be negative.")
    by_code = {site.code: site for site in sites}
    versions = {
        (version.form.name, version.number): version
        for version in FormVersion.objects.select_related("form")
    }
    missing = {"enrollment", "mirror_movements", "dysraphic_lesion", "surgery", "follow_up"} - {
        name for name, _ in versions
    }
    if missing:
        raise ValueError(
            f"Publish the forms first (manage.py sync_forms); missing: "
            f"{', '.join(sorted(missing))}."
        )
    report = GenerationReport()
    today = dt.date.today()
    done = 0
    batch: list[SyntheticPatient] = []
    for patient in iter_patients(
        patients, sorted(by_code), seed=seed, error_share=error_share, reference_year=reference_year
    ):
        batch.append(patient)
        if len(batch) >= batch_size:
            _write_batch(actor, batch, by_code, versions, today, report)
            done += len(batch)
            batch = []
            if progress is not None:
                progress(done, patients)
    if batch:
        _write_batch(actor, batch, by_code, versions, today, report)
        if progress is not None:
            progress(patients, patients)
    if report.patients:
        record_event(
            actor,
            "synthetic.generate",
            None,
            context={
                "seed": seed,
                "sites": sorted(by_code),
                "requested": patients,
                **report.as_dict(),
            },
        )
    return report


def _write_batch(
    actor: User | None,
    batch: list[SyntheticPatient],
    sites: dict[str, Site],
    versions: dict[tuple[str, int], FormVersion],
    today: dt.date,
    report: GenerationReport,
) -> None:
    # Through the same services as every other door: enrolled, validated and audited alike.
    enrolments = do_enrol_patients_bulk(
        actor,
        [
            NewPatient(
                sites[patient.site_code], patient.local_id, patient.sex, patient.year_of_birth
            )
            for patient in batch
        ],
    )
    fresh = [
        (patient, enrolment.patient)
        for patient, enrolment in zip(batch, enrolments, strict=True)
        if enrolment.created
    ]
    report.skipped_existing += len(batch) - len(fresh)
    if not fresh:
        return
    items, origins, past_the_rules = [], [], []
    for patient, row in fresh:
        for entry in patient.submissions:
            item = BulkItem(
                row,
                versions[(entry.form, entry.version)],
                entry.data,
                status=entry.status,
                instance=entry.instance,
            )
            if _breaks_the_save_rules(patient, entry):
                past_the_rules.append(item)
                continue
            items.append(item)
            origins.append(f"{patient.local_id} {entry.form} v{entry.version} #{entry.instance}")
        report.planted.update(planted.rule for planted in patient.planted)
        report.patients_with_errors += bool(patient.planted)
    try:
        do_save_submissions_bulk(
            actor, items, new_patients={row.pk for _, row in fresh}, today=today
        )
    except BulkSaveRefused as refused:
        index, errors = next(iter(refused.errors.items()))
        raise SyntheticDataInvalid(f"{origins[index]}: {errors}") from None
    _write_past_the_rules(actor, past_the_rules, today)
    report.patients += len(fresh)
    report.submissions += len(items) + len(past_the_rules)


def _breaks_the_save_rules(patient: SyntheticPatient, entry: SyntheticSubmission) -> bool:
    """A second enrolment of one patient: the save service refuses it (the form is filled once),
    and the mistake is planted because older data and other systems' exports may hold it."""
    return any(
        planted.rule == "duplicate_enrolment"
        and planted.form == entry.form
        and planted.instance == entry.instance
        for planted in patient.planted
    )


def _write_past_the_rules(actor: User | None, items: list[BulkItem], today: dt.date) -> None:
    """Write what the save service would refuse, as an older import might have left it: the
    answers still validated by the form engine, the write still audited."""
    if not items:
        return
    now = timezone.now()
    rows = []
    for item in items:
        result = validate_submission(schema_of(item.form_version), item.data, today=today)
        if result.errors:
            raise SyntheticDataInvalid(f"{item.patient} {item.form_version}: {result.errors}")
        rows.append(
            Submission(
                patient=item.patient,
                form_id=item.form_version.form_id,
                form_version=item.form_version,
                instance=item.instance,
                data=result.data,
                status=item.status,
                created_at=now,
                created_by=actor,
                updated_at=now,
                updated_by=actor,
            )
        )
    saved = Submission.objects.bulk_create(rows)
    record_events(
        [
            event_row(
                actor,
                Action.SUBMISSION_CREATE,
                submission,
                site_id=submission.patient.site_id,
                changes={key: [None, value] for key, value in submission.data.items()},
                context={"form": item.form_version.form.name, "synthetic": "planted"},
                at=now,
            )
            for submission, item in zip(saved, items, strict=True)
            if submission.pk is not None
        ]
    )
