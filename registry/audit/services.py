"""Writing to the audit trail. Services call `record_event` inside their own transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils import timezone

from registry.copy_insert import insert_values

from .actions import Action, registered
from .models import AuditEvent
from .request_context import current_request_id

if TYPE_CHECKING:
    # Types only: people records its own events through this app, so audit sits below it.
    from registry.people.models import Site, User


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Field-level changes as {field: [old, new]}; fields that did not change are left out."""
    if not before:
        # A new object, the most common case of bulk writes: one pass, in the object's own
        # order (PostgreSQL keeps jsonb keys in an order of its own anyway).
        return {key: [None, value] for key, value in after.items() if value is not None}
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def event_row(
    actor: User | None,
    action: Action | str,
    obj: models.Model | None = None,
    *,
    site_id: int | None = None,
    changes: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    at: datetime | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """One event as the attribute values of its row: what `record_event` saves, and what the
    bulk writers (an import's thousands of submissions) insert many of at once with
    `record_events`, so that every event is built by this one function."""
    known_actor = actor if actor is not None and actor.is_authenticated else None
    return {
        "at": at or timezone.now(),
        "actor_id": known_actor.pk if known_actor else None,
        "actor_username": known_actor.get_username() if known_actor else "",
        "action": registered(action).value,
        "object_type": obj._meta.label_lower if obj is not None else "",
        "object_id": str(obj.pk) if obj is not None else "",
        "object_label": str(obj)[:200] if obj is not None else "",
        "site_id": site_id,
        "changes": dict(changes or {}),
        "context": dict(context or {}),
        "request_id": current_request_id.get() if request_id is None else request_id,
    }


def record_events(rows: Sequence[Mapping[str, Any]]) -> None:
    """Append many events built by `event_row`, in one INSERT (or COPY)."""
    insert_values(AuditEvent, rows)


def record_event(
    actor: User | None,
    action: Action | str,
    obj: models.Model | None = None,
    *,
    site: Site | None = None,
    changes: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. `changes` is a diff (see `diff`); `context` holds anything else useful.

    Never pass secrets or identifiers here (local hospital IDs, tokens, passwords): the trail is
    kept forever and shown to curators. `action` must be registered in registry/audit/actions.py
    (UnregisteredAction otherwise).
    """
    row = event_row(
        actor,
        action,
        obj,
        site_id=site.pk if site is not None else None,
        changes=changes,
        context=context,
    )
    event = AuditEvent(**row)
    if site is not None:
        event.site = site
    event.save(force_insert=True)
    return event
