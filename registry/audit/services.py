"""Writing to the audit trail. Services call `record_event` inside their own transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models

from registry.people.models import Site, User

from .actions import Action, registered
from .models import AuditEvent
from .request_context import current_request_id


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
    action = registered(action)
    known_actor = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent.objects.create(
        actor=known_actor,
        actor_username=known_actor.get_username() if known_actor else "",
        action=action.value,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_label=str(obj)[:200] if obj is not None else "",
        site=site,
        changes=dict(changes or {}),
        context=dict(context or {}),
        request_id=current_request_id.get(),
    )
