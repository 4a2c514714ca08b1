"""Findings of the data-quality rules, kept across runs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from registry.people.scoping import ScopedManager


class Severity(models.TextChoices):
    ERROR = "error", "Error"
    WARNING = "warning", "Warning"
    INFO = "info", "For review"


class IssueStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"
    ACCEPTED = "accepted", "Accepted as correct"


class QualityIssue(models.Model):
    """One finding: a rule that fired on a field of a submission (or on a patient as a whole).

    `fingerprint` identifies the finding across runs (rule, object, field), so a finding seen
    again is updated rather than duplicated, and one a curator accepted stays accepted.
    """

    rule = models.CharField(max_length=60, db_index=True)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    site = models.ForeignKey("people.Site", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    submission = models.ForeignKey(
        "submissions.Submission",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="quality_issues",
    )
    field = models.CharField(max_length=100, blank=True)
    message = models.TextField()
    fingerprint = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=10, choices=IssueStatus.choices, default=IssueStatus.OPEN)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    accepted_reason = models.TextField(blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    # Rule-specific facts for curators (the other patient of a near-duplicate pair, the bounds
    # an outlier was judged against). Never shown to coordinators of another site.
    details = models.JSONField(default=dict, blank=True)

    objects = ScopedManager("site")

    class Meta:
        ordering = ["site", "-last_seen"]
        indexes = [
            models.Index(fields=["site", "status"]),
            models.Index(fields=["patient", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.rule} on {self.submission or self.patient} [{self.field}]"
