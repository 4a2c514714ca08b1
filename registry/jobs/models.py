"""A record of every background run, so a crashed run is visible and can be run again."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class JobKind(models.TextChoices):
    STATISTICS = "statistics", "Aggregate statistics"
    QUALITY = "quality", "Data-quality checks"
    EXPORT = "export", "Export"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class JobRun(models.Model):
    kind = models.CharField(max_length=20, choices=JobKind.choices)
    parameters = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Progress for people watching a slow run: `done` of `total` units (submissions, rows).
    progress_done = models.PositiveBigIntegerField(default=0)
    progress_total = models.PositiveBigIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    # Whatever the run produced for a person to fetch later (an export file's path).
    result_file = models.CharField(max_length=300, blank=True)
    # Updated with every progress report: a running run whose heartbeat stops is a dead run.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # A re-run is a new record pointing at the failed one, so the history of failures stays.
    rerun_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reruns"
    )
    # What a run leaves for later runs of its kind (the quality checks' numeric baselines).
    state = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["kind", "status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} run {self.pk} ({self.status})"

    @property
    def failure_reason(self) -> str:
        """The line of the error a person reads first: its own sentence, or the exception."""
        lines = [line.strip() for line in self.error.strip().splitlines() if line.strip()]
        if not lines:
            return ""
        # A traceback ends with the exception; the registry's own errors start with the reason.
        return lines[-1] if lines[0].startswith("Traceback") else lines[0]

    @property
    def counts_shown(self) -> list[tuple[str, object]]:
        """The totals as the pages list them: "Patients checked", not `patients_checked`."""
        return [
            (key.replace("_", " ").capitalize(), value)
            for key, value in self.counts.items()
            if not isinstance(value, dict)
        ]

    @property
    def findings_shown(self) -> list[tuple[str, object]]:
        """The findings per rule, under the rule's code, which the rules page explains."""
        return [
            (f"Findings of {rule}", count)
            for value in self.counts.values()
            if isinstance(value, dict)
            for rule, count in value.items()
        ]

    @property
    def status_sentence(self) -> str:
        """The run's state as a whole sentence, one per status, never a label glued in."""
        kind = self.get_kind_display()
        if self.status == JobStatus.QUEUED:
            return f"{kind} run {self.pk} is waiting for a worker."
        if self.status == JobStatus.RUNNING:
            return f"{kind} run {self.pk} is running."
        if self.status == JobStatus.SUCCEEDED:
            return f"{kind} run {self.pk} finished."
        reason = self.failure_reason
        if reason:
            return f"{kind} run {self.pk} failed: {reason}"
        return f"{kind} run {self.pk} failed."

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    @property
    def progress_percent(self) -> int:
        if self.status == JobStatus.SUCCEEDED:
            return 100
        if not self.progress_total:
            return 0
        return min(100, int(100 * self.progress_done / self.progress_total))
