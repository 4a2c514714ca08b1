"""Saving submissions: validated by the form engine, audited, safe against lost updates."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from registry.audit.actions import Action
from registry.audit.request_context import current_request_id
from registry.audit.services import diff, event_row, record_events
from registry.copy_insert import insert_all, new_object
from registry.crfs.models import FormDefinition, FormVersion
from registry.crfs.selectors import schema_of
from registry.cyclic_gc import cyclic_gc_paused
from registry.formengine.validation import validate_submission
from registry.patients.models import Patient
from registry.people.access import require_data_entry
from registry.people.models import User

from .choice_limits import choice_limit_errors, limited_fields
from .models import Status, Submission
from .other_forms import batch_other_form_values, reads_other_forms


class SubmissionLocked(Exception):
    """The submission is locked by a curator and cannot be changed."""

    def __init__(self, submission: Submission) -> None:
        super().__init__(
            f"{submission} is locked by a curator and cannot be changed. "
            "Ask a curator to unlock it if a correction is needed."
        )


class StaleSubmission(Exception):
    """Someone else saved the submission after the caller read it."""

    def __init__(self, submission: Submission, expected: int) -> None:
        self.current_row_version = submission.row_version
        super().__init__(
            f"{submission} was changed by someone else since you opened it (you had version "
            f"{expected}, it is now at {submission.row_version}). Reload it to see their "
            "changes, then apply yours again."
        )


@dataclass(frozen=True)
class SaveOutcome:
    submission: Submission
    created: bool
    recomputed: dict[str, Any] = field(default_factory=dict)
    cleared_hidden: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """Required questions shown and still unanswered (only a draft saves with some)."""


def do_save_submission(
    actor: User,
    patient: Patient,
    form_version: FormVersion,
    data: dict[str, Any],
    *,
    status: str = Status.INCOMPLETE,
    instance: int | None = None,
    expected_row_version: int | None = None,
    client_uuid: uuid.UUID | None = None,
    clear_hidden: bool = False,
) -> SaveOutcome:
    """Create or update one instance of a form for a patient.

    `instance=None` creates a new instance (the next number for a repeatable form, 1 otherwise).
    A create sent again with the same `client_uuid` gets the first one's submission back
    (created=False) and changes nothing. Raises ValidationError (field -> messages) for bad
    data, SubmissionLocked, StaleSubmission.

    A batch of one: `do_save_submissions_bulk` holds the rules of every save.
    """
    item = BulkItem(
        patient,
        form_version,
        data,
        status=status,
        instance=instance,
        expected_row_version=expected_row_version,
        client_uuid=client_uuid,
    )
    try:
        [outcome] = do_save_submissions_bulk(actor, [item], clear_hidden=clear_hidden)
    except BulkSaveRefused as refused:
        raise refused.refusal(0) from None
    return outcome


def _insert_as_next_instance(submission: Submission) -> None:
    """INSERT a new `submission` as the next instance of its patient's form, numbered by the
    database within the same statement: looking the last number up first cost every create a
    query. Two creates racing for one number: the later meets the unique key."""
    fields, sql = _next_instance_insert()
    values = [
        field.get_db_prep_save(field.pre_save(submission, True), connection) for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, submission.patient_id, submission.form_id])
        submission.pk, submission.instance = cursor.fetchone()
    submission._state.adding = False
    submission._state.db = connection.alias


@functools.cache
def _next_instance_insert() -> tuple[list[Any], str]:
    """The columns `_insert_as_next_instance` fills from the object, and its statement."""
    meta = Submission._meta
    fields = [
        field
        for field in meta.concrete_fields
        if not field.primary_key and field.attname != "instance"
    ]
    table = meta.db_table
    sql = (
        f"INSERT INTO {table} ({', '.join(field.column for field in fields)}, instance) "
        f"VALUES ({', '.join(['%s'] * len(fields))}, (SELECT COALESCE(MAX(instance), 0) + 1 "
        f"FROM {table} WHERE patient_id = %s AND form_id = %s)) RETURNING id, instance"
    )
    return fields, sql


# --------------------------------------------------------------------------------------------
# The rules of a save, each in one place.


def check_new_instance(form: FormDefinition, instance: int) -> None:
    """A new instance must be one the form has; ValidationError (instance) otherwise."""
    if instance < 1:
        raise ValidationError({"instance": ["Instances are numbered from 1."]})
    if instance > 1 and not form.repeatable:
        raise ValidationError(
            {
                "instance": [
                    f"{form.title} is filled once per patient; it has no instance {instance}."
                ]
            }
        )


def check_update(
    current: Submission, form_version: FormVersion, expected_row_version: int | None
) -> None:
    """May `current` be changed on `form_version` by someone who read `expected_row_version`?
    Raises SubmissionLocked, StaleSubmission, or ValidationError (form_version)."""
    if current.locked:
        raise SubmissionLocked(current)
    if expected_row_version is not None and expected_row_version != current.row_version:
        raise StaleSubmission(current, expected_row_version)
    if current.form_version_id != form_version.pk:
        # A submission stays on the version it was filled on; data never moves silently.
        raise ValidationError(
            {
                "form_version": [
                    f"{current} was filled on version {current.form_version.number}; "
                    "it is edited on that version."
                ]
            }
        )


_UPDATED_FIELDS = [
    "data",
    "status",
    "row_version",
    "updated_by",
    "updated_at",
    "verified_at",
    "verified_by",
]


def apply_update(
    current: Submission, data: dict[str, Any], status: str, actor: User | None, now: datetime
) -> None:
    """The new answers and status on `current` (not saved): a new row version, and the
    curator's verification dropped when the data changed."""
    if current.data != data:
        # A curator verified the data as it was; changed data needs their eyes again.
        current.verified_at, current.verified_by = None, None
    current.data, current.status = data, status
    current.row_version += 1
    current.updated_by, current.updated_at = actor, now


# --------------------------------------------------------------------------------------------
# Every save: many submissions at once (imports), or one (`do_save_submission`)


@dataclass(frozen=True)
class BulkItem:
    """One submission to save in a batch; the arguments of `do_save_submission`, as data."""

    patient: Patient
    form_version: FormVersion
    data: dict[str, Any]
    status: str = Status.INCOMPLETE
    instance: int | None = None
    expected_row_version: int | None = None
    client_uuid: uuid.UUID | None = None


class BulkSaveRefused(Exception):
    """Some items of a batch cannot be saved, so none was.

    `errors` maps an item's position in the batch to field -> messages, as a ValidationError's
    `message_dict` would (`"__all__"` for a locked or stale submission); `locked` holds the
    positions of the items refused because a curator locked their submission, `conflicts`
    those refused because their instance exists (a create-only batch's item naming it, or a
    create of a form filled once per patient who has it).
    """

    def __init__(
        self,
        errors: dict[int, dict[str, list[str]]],
        locked: frozenset[int] = frozenset(),
        conflicts: frozenset[int] = frozenset(),
        refusals: Mapping[int, SubmissionLocked | StaleSubmission] | None = None,
    ) -> None:
        self.errors = errors
        self.locked = locked
        self.conflicts = conflicts
        self._refusals = dict(refusals or {})
        count = len(errors)
        super().__init__(
            f"{count} submission{'s' if count != 1 else ''} of the batch cannot "
            "be saved; nothing was saved."
        )

    def refusal(self, index: int) -> Exception:
        """Why the item at `index` was refused, as a save of it alone says it:
        SubmissionLocked, StaleSubmission, or a ValidationError (field -> messages)."""
        return self._refusals.get(index) or ValidationError(self.errors[index])


# Keeps the IN lists of the lookups below within every database's parameter limit.
_LOOKUP_CHUNK = 2000
# Status.values builds a new list on every use.
_STATUSES = frozenset(Status.values)

Errors = dict[int, dict[str, list[str]]]


@cyclic_gc_paused()
def do_save_submissions_bulk(
    actor: User | None,
    items: list[BulkItem],
    *,
    clear_hidden: bool = False,
    new_patients: Set[int] = frozenset(),
    create_only: bool = False,
    today: date | None = None,
) -> list[SaveOutcome]:
    """Save many submissions in one transaction: all of them, or none. Every save goes
    through here, `do_save_submission` as a batch of one.

    Items are refused when locked, stale, on another version than their submission, or naming
    an instance their form does not have, and audited with one event each. An item whose
    `client_uuid` was saved before returns that submission, unchanged (created=False). Every
    item is checked before anything is written; any problem raises BulkSaveRefused listing
    all of them. Raises PermissionDenied when `actor` may not enter data for one of the
    patients' sites.

    `actor` None is the registry's own shell command (the synthetic data generator), trusted
    as its access to the database is; `today` is the day answers are judged on (dates in the
    future), today unless given.

    `create_only` refuses an item naming an instance that exists (a create never changes one;
    the API's POST), instead of updating it.

    `new_patients` are patients the caller enrolled in the same transaction (an import's new
    records): having no submissions, they are not looked up. Were one of them to have some
    after all, the unique instance of each form still refuses a duplicate.
    """
    if actor is not None:
        for site in {item.patient.site_id: item.patient.site for item in items}.values():
            require_data_entry(actor, site)
    errors = _keys_given_twice(items)
    keyed = [
        index
        for index, item in enumerate(items)
        if item.client_uuid is not None and index not in errors
    ]
    # A retry naming its instance would find its first attempt's submission and update it:
    # those keys are looked up first.
    replayed = _replays(
        items, [index for index in keyed if items[index].instance is not None], errors
    )
    save = functools.partial(
        _save_checked,
        actor,
        items,
        clear_hidden=clear_hidden,
        new_patients=new_patients,
        create_only=create_only,
        today=today,
    )
    try:
        return save(errors, replayed)
    except (BulkSaveRefused, ValidationError):
        # The other retries show themselves here, as owners of the keys their inserts met (or
        # of data a version published since refuses): retries are rare, and looking for first
        # attempts before every create would cost each save a query.
        unsure = [index for index in keyed if index not in replayed and index not in errors]
        found_before = len(errors)
        found = _replays(items, unsure, errors)
        if not found and len(errors) == found_before:
            raise
    return save(errors, {**replayed, **found})


def _save_checked(
    actor: User | None,
    items: list[BulkItem],
    known: Errors,
    replayed: dict[int, Submission],
    *,
    clear_hidden: bool,
    new_patients: Set[int],
    create_only: bool,
    today: date | None,
) -> list[SaveOutcome]:
    errors: Errors = {
        index: {key: list(messages) for key, messages in fields.items()}
        for index, fields in known.items()
    }
    results: list[Any] = [None] * len(items)
    # Items whose logic reads another form come last, to read what the batch saves of it.
    readers = {index for index, item in enumerate(items) if reads_other_forms(item)}
    contexts: dict[int, dict[str, Any]] | None = None
    order = (
        sorted(range(len(items)), key=lambda index: index in readers)
        if readers
        else (range(len(items)))
    )
    for index in order:
        item = items[index]
        if index in replayed or index in errors:
            continue
        if item.status not in _STATUSES:
            errors[index] = {"status": [f"Choose one of: {', '.join(Status.values)}."]}
            continue
        if index in readers and contexts is None:
            contexts = batch_other_form_values(items, results, readers, new_patients)
        result = validate_submission(
            schema_of(item.form_version),
            item.data,
            require_answers=item.status == Status.COMPLETE,
            clear_hidden=clear_hidden,
            today=today,
            other_forms=contexts.get(index) if contexts else None,
        )
        if result.errors:
            errors[index] = result.errors
        results[index] = result

    # A batch of one numbers a new instance in its INSERT, sparing every save from a page or
    # the API a round trip; a larger batch looks the last numbers up once.
    numbered_in_insert = (
        len(items) == 1 and items[0].instance is None and items[0].form_version.form.repeatable
    )
    now = timezone.now()
    with transaction.atomic():
        _bulk_choice_limits(items, results, errors)
        existing = _lock_existing(items, new_patients)
        next_instance = {} if numbered_in_insert else _next_instances(items, new_patients)
        taken: set[tuple[int, int, int]] = set()
        to_create: list[tuple[int, Submission]] = []
        to_update: list[tuple[int, Submission, dict[str, Any]]] = []
        locked: set[int] = set()
        conflicts: set[int] = set()
        refusals: dict[int, SubmissionLocked | StaleSubmission] = {}
        for index, item in enumerate(items):
            if index in replayed:
                continue
            result = results[index]
            form = item.form_version.form
            named = key_instance = _named_instance(item)
            if key_instance is None and not numbered_in_insert:
                key_instance = next_instance[(item.patient.pk, form.pk)]
                next_instance[(item.patient.pk, form.pk)] += 1
            key = None if key_instance is None else (item.patient.pk, form.pk, key_instance)
            if key is not None:
                if key in taken:
                    _add(
                        errors,
                        index,
                        "instance",
                        f"{form.title} #{key_instance} of "
                        f"{item.patient} appears more than once in this batch; send it once.",
                    )
                    continue
                taken.add(key)
            current = existing.get(key) if key is not None and named is not None else None
            if current is not None and item.instance is None:
                # A form filled once per patient, asked for a new instance.
                _add(
                    errors,
                    index,
                    "instance",
                    f"{form.title} #{key_instance} exists already "
                    f"for {item.patient}; open it to change it.",
                )
                conflicts.add(index)
                continue
            if current is not None and create_only:
                what = f"{form.title} #{key_instance} of {item.patient}"
                if current.locked:
                    _add(
                        errors,
                        index,
                        "instance",
                        f"{what} is locked by a curator and cannot be changed.",
                    )
                    locked.add(index)
                else:
                    _add(
                        errors,
                        index,
                        "instance",
                        f"{what} exists already; a create never "
                        "changes it: change it on its own, with the version you read.",
                    )
                    conflicts.add(index)
                continue
            if current is None:
                if key_instance is not None:
                    try:
                        check_new_instance(form, key_instance)
                    except ValidationError as refused:
                        _merge(errors, index, refused.message_dict)
                if index in errors or result is None:
                    continue
                to_create.append(
                    (index, _new_submission(item, key_instance or 1, result.data, actor, now))
                )
                continue
            try:
                check_update(current, item.form_version, item.expected_row_version)
            except (SubmissionLocked, StaleSubmission) as refused:
                _add(errors, index, "__all__", str(refused))
                refusals[index] = refused
                if isinstance(refused, SubmissionLocked):
                    locked.add(index)
                continue
            except ValidationError as refused:
                _merge(errors, index, refused.message_dict)
                continue
            if index in errors or result is None:
                continue
            before = {**current.data, "status": current.status}
            apply_update(current, result.data, item.status, actor, now)
            to_update.append((index, current, before))
        if errors:
            raise BulkSaveRefused(
                dict(sorted(errors.items())), frozenset(locked), frozenset(conflicts), refusals
            )

        _insert(
            [submission for _, submission in to_create], numbered_in_insert, alone=len(items) == 1
        )
        _write_updates([submission for _, submission, _ in to_update])
        outcomes: dict[int, SaveOutcome] = {
            index: SaveOutcome(earlier, created=False) for index, earlier in replayed.items()
        }
        events = []
        request_id = current_request_id.get()
        for index, submission in to_create:
            events.append(
                _save_event(
                    actor,
                    submission,
                    results[index],
                    {},
                    created=True,
                    request_id=request_id,
                    at=now,
                )
            )
            outcomes[index] = _outcome(submission, results[index], created=True)
        for index, submission, before in to_update:
            events.append(
                _save_event(
                    actor,
                    submission,
                    results[index],
                    before,
                    created=False,
                    request_id=request_id,
                    at=now,
                )
            )
            outcomes[index] = _outcome(submission, results[index], created=False)
        record_events(events)
    return [outcomes[index] for index in range(len(items))]


def _lock_counts(form: FormDefinition) -> None:
    # Saves that count choices across records take turns per form: two at once could each see
    # one place left and both take it.
    FormDefinition.objects.select_for_update().filter(pk=form.pk).order_by().exists()


def _bulk_choice_limits(items: list[BulkItem], results: list[Any], errors: Errors) -> None:
    """@MAXCHOICE over a batch: per form, whatever the versions, in batch order (see
    choice_limits)."""
    groups: dict[int, list[int]] = {}
    for index, item in enumerate(items):
        if (
            results[index] is not None
            and index not in errors
            and limited_fields(schema_of(item.form_version))
        ):
            groups.setdefault(item.form_version.form_id, []).append(index)
    for indexes in groups.values():
        form = items[indexes[0]].form_version.form
        _lock_counts(form)
        found = choice_limit_errors(
            form,
            [
                (items[index].patient.pk, schema_of(items[index].form_version), results[index].data)
                for index in indexes
            ],
        )
        for index, refused in zip(indexes, found, strict=True):
            if refused:
                _merge(errors, index, refused)


def _named_instance(item: BulkItem) -> int | None:
    """The instance an item is about before any numbering: the one it names, or the only one
    a form filled once per patient has."""
    if item.instance is None and not item.form_version.form.repeatable:
        return 1
    return item.instance


def _insert(created: list[Submission], numbered_in_insert: bool, *, alone: bool) -> None:
    if not created:
        return
    try:
        # No savepoint: the ValidationError below leaves the batch's transaction, which rolls
        # it back whole, so a savepoint would only add two round trips to every save.
        with transaction.atomic(savepoint=False):
            if numbered_in_insert:
                _insert_as_next_instance(created[0])
            else:
                insert_all(created)
    except IntegrityError as error:
        if not alone:
            message = (
                "Someone else created some of these instances at the same moment; "
                "nothing was saved. Run the import again."
            )
        elif numbered_in_insert:
            submission = created[0]
            message = (
                f"Another {submission.form.title} for {submission.patient} was saved at "
                "the same moment and took the next number; save again to add yours "
                "after it."
            )
        else:
            submission = created[0]
            message = (
                f"{submission.form.title} #{submission.instance} exists already for "
                f"{submission.patient}; open it to change it."
            )
        raise ValidationError({"instance": [message]}) from error


def _write_updates(updated: list[Submission]) -> None:
    if len(updated) == 1:
        # One plain UPDATE: bulk_update's CASE over the keys buys nothing for a single row.
        updated[0].save(update_fields=_UPDATED_FIELDS)
    elif updated:
        Submission.objects.bulk_update(updated, _UPDATED_FIELDS, batch_size=500)


def _keys_given_twice(items: list[BulkItem]) -> Errors:
    errors: Errors = {}
    seen: set[uuid.UUID] = set()
    for index, item in enumerate(items):
        key = item.client_uuid
        if key is None:
            continue
        if key in seen:
            _add(
                errors,
                index,
                "client_uuid",
                "This key appears more than once in the batch; "
                "give each submission a key of its own.",
            )
        seen.add(key)
    return errors


def _replays(items: list[BulkItem], positions: list[int], errors: Errors) -> dict[int, Submission]:
    """The items at `positions` whose client_uuid was saved before -> that submission; an item
    whose key was saved for another patient gets an error instead."""
    keys = [items[index].client_uuid for index in positions]
    if not keys:
        return {}
    earlier: dict[uuid.UUID, Submission] = {}
    for start in range(0, len(keys), _LOOKUP_CHUNK):
        rows = Submission.objects.filter(
            client_uuid__in=keys[start : start + _LOOKUP_CHUNK]
        ).select_related("patient__site", "form", "form_version")
        for submission in rows:
            if submission.client_uuid is not None:
                earlier[submission.client_uuid] = submission
    replayed: dict[int, Submission] = {}
    for index in positions:
        item = items[index]
        first = earlier.get(item.client_uuid) if item.client_uuid is not None else None
        if first is None:
            continue
        if first.patient_id != item.patient.pk:
            _add(errors, index, "client_uuid", "This key was used for another patient.")
            continue
        replayed[index] = first
    return replayed


def _add(errors: dict[int, dict[str, list[str]]], index: int, key: str, message: str) -> None:
    errors.setdefault(index, {}).setdefault(key, []).append(message)


def _merge(
    errors: dict[int, dict[str, list[str]]], index: int, found: dict[str, list[str]]
) -> None:
    for key, messages in found.items():
        errors.setdefault(index, {}).setdefault(key, []).extend(messages)


def _lock_existing(
    items: list[BulkItem], new_patients: Set[int]
) -> dict[tuple[int, int, int], Submission]:
    wanted = {
        (item.patient.pk, item.form_version.form_id, instance)
        for item in items
        if (instance := _named_instance(item)) is not None and item.patient.pk not in new_patients
    }
    versions = {item.form_version.pk: item.form_version for item in items}
    patient_ids = sorted({key[0] for key in wanted})
    form_ids = {key[1] for key in wanted}
    instances = {key[2] for key in wanted}
    found: dict[tuple[int, int, int], Submission] = {}
    for start in range(0, len(patient_ids), _LOOKUP_CHUNK):
        chunk = patient_ids[start : start + _LOOKUP_CHUNK]
        rows = (
            Submission.objects.select_for_update(of=("self",))
            .filter(patient_id__in=chunk, form_id__in=form_ids, instance__in=instances)
            .select_related("patient", "form")
        )
        for submission in rows:
            key = (submission.patient_id, submission.form_id, submission.instance)
            if key in wanted:
                # The items' versions, not one loaded per row: a version's schema is large.
                if submission.form_version_id in versions:
                    submission.form_version = versions[submission.form_version_id]
                found[key] = submission
    return found


def _next_instances(items: list[BulkItem], new_patients: Set[int]) -> dict[tuple[int, int], int]:
    wanted = {
        (item.patient.pk, item.form_version.form_id)
        for item in items
        if _named_instance(item) is None
    }
    numbers = dict.fromkeys(wanted, 1)
    for item in items:
        key = (item.patient.pk, item.form_version.form_id)
        if item.instance is not None and key in numbers:
            # New instances go after those the batch itself names.
            numbers[key] = max(numbers[key], item.instance + 1)
    patient_ids = sorted({key[0] for key in wanted} - new_patients)
    form_ids = {key[1] for key in wanted}
    for start in range(0, len(patient_ids), _LOOKUP_CHUNK):
        chunk = patient_ids[start : start + _LOOKUP_CHUNK]
        rows = (
            Submission.objects.filter(patient_id__in=chunk, form_id__in=form_ids)
            .values("patient_id", "form_id")
            .annotate(last=Max("instance"))
        )
        for row in rows:
            key = (row["patient_id"], row["form_id"])
            if key in numbers:
                numbers[key] = max(numbers[key], row["last"] + 1)
    return numbers


_SUBMISSION_RELATIONS: dict[str, Any] = {
    name: Submission._meta.get_field(name)
    for name in ("patient", "form", "form_version", "created_by", "updated_by")
}


def _new_submission(
    item: BulkItem, instance: int, data: dict[str, Any], actor: User | None, now: datetime
) -> Submission:
    actor_id = actor.pk if actor is not None else None
    submission = new_object(
        Submission,
        {
            "patient_id": item.patient.pk,
            "form_id": item.form_version.form_id,
            "form_version_id": item.form_version.pk,
            "instance": instance,
            "data": data,
            "status": item.status,
            "client_uuid": item.client_uuid,
            "created_at": now,
            "created_by_id": actor_id,
            "updated_at": now,
            "updated_by_id": actor_id,
        },
    )
    # Cached as Submission(patient=..., ...) would cache them, so that reading them costs no
    # query; the keys are set above.
    for name, related in (
        ("patient", item.patient),
        ("form", item.form_version.form),
        ("form_version", item.form_version),
        ("created_by", actor),
        ("updated_by", actor),
    ):
        _SUBMISSION_RELATIONS[name].set_cached_value(submission, related)
    return submission


def _save_context(submission: Submission, result: Any) -> dict[str, Any]:
    version = submission.form_version
    return {
        "form": version.form.name,
        "version": version.number,
        "instance": submission.instance,
        "row_version": submission.row_version,
        "recomputed": {k: list(v) for k, v in result.recomputed.items()},
        "cleared_hidden": list(result.cleared_hidden),
    }


def _save_event(
    actor: User | None,
    submission: Submission,
    result: Any,
    before: dict[str, Any],
    *,
    created: bool,
    request_id: str,
    at: datetime,
) -> dict[str, Any]:
    return event_row(
        actor,
        Action.SUBMISSION_CREATE if created else Action.SUBMISSION_UPDATE,
        submission,
        site_id=submission.patient.site_id,
        changes=diff(before, {**submission.data, "status": submission.status}),
        context=_save_context(submission, result),
        at=at,
        request_id=request_id,
    )


def _outcome(submission: Submission, result: Any, *, created: bool) -> SaveOutcome:
    return SaveOutcome(
        submission,
        created,
        dict(result.recomputed),
        list(result.cleared_hidden),
        list(result.missing),
    )
