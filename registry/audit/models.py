"""The audit trail: an append-only record of every write, login, export and record-level read."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditTrailIsAppendOnly(Exception):
    """Raised on any attempt to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditTrailIsAppendOnly("Audit events cannot be changed.")

    def delete(self) -> NoReturn:
        raise AuditTrailIsAppendOnly("Audit events cannot be deleted.")


class AuditEvent(models.Model):
    """One thing that happened: who did what to which object, and what changed.

    The database refuses UPDATE on this table as well (a trigger, see the migrations), so the
    trail stays intact even against code that bypasses the model.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    # No foreign-key constraints in the database (db_constraint=False) on the actor and site:
    # every write of the registry appends events, and each constraint is a check queued per
    # event and run at commit (a tenth of a large import's time). The trail is written only
    # by the registry's own services, with the user and site they hold; PROTECT still keeps
    # Django from deleting a user or site the trail names.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    # Kept as text too, so the trail reads the same after an account is renamed.
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    site = models.ForeignKey(
        "people.Site",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    changes = models.JSONField(default=dict, blank=True)
    context = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        # The action is looked up whole, never by prefix: a plain index (db_index=True on a
        # CharField would add a second, for LIKE, to every event written).
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["action"], name="audit_event_action_idx"),
        ]

    def __str__(self) -> str:
        who = self.actor_username or "anonymous"
        return f"{self.at:%Y-%m-%d %H:%M:%S} {who} {self.action} {self.object_label}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditTrailIsAppendOnly("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditTrailIsAppendOnly("Audit events cannot be deleted.")
