"""Submissions: filled case-report forms, each pinned to the form version it was filled on."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from registry.people.scoping import ScopedManager


class Status(models.TextChoices):
    """REDCap's form status; its API speaks them as 0, 1 and 2."""

    INCOMPLETE = "incomplete", "Incomplete"
    UNVERIFIED = "unverified", "Unverified"
    COMPLETE = "complete", "Complete"


REDCAP_STATUS_CODES = {Status.INCOMPLETE: 0, Status.UNVERIFIED: 1, Status.COMPLETE: 2}


class Submission(models.Model):
    """One instance of a form for a patient. `data` is a JSON document keyed by field name."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="submissions"
    )
    form = models.ForeignKey("crfs.FormDefinition", on_delete=models.PROTECT, related_name="+")
    form_version = models.ForeignKey(
        "crfs.FormVersion", on_delete=models.PROTECT, related_name="submissions"
    )
    # Repeatable forms (assessments, surgeries, follow-ups) number their instances from 1.
    instance = models.PositiveIntegerField(default=1)
    data = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.INCOMPLETE)
    locked = models.BooleanField(default=False)
    # A curator's review: cleared again whenever the data changes.
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Optimistic concurrency: a save names the row version it read; a stale one is refused.
    row_version = models.PositiveIntegerField(default=1)
    # Idempotency key: a retried create with the same key returns the first result.
    client_uuid = models.UUIDField(null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = ScopedManager("patient__site")

    class Meta:
        ordering = ["patient", "form", "instance"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "form", "instance"], name="one_submission_per_instance"
            )
        ]
        indexes = [models.Index(fields=["form", "status"])]

    def __str__(self) -> str:
        return f"{self.patient} {self.form.name} #{self.instance}"

    @property
    def display_name(self) -> str:
        """The submission as people name it: the form's title, not its code."""
        return f"{self.form.title} #{self.instance} of {self.patient.pseudonym}"
