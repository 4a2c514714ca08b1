"""Stored results of aggregate-statistics runs."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class StatsSnapshot(models.Model):
    """One statistics run's results, with the data cut it was computed from.

    `results` holds the figures before small-cell suppression; suppression is applied when a
    snapshot is shown to someone who may only see suppressed figures.
    """

    job_run = models.OneToOneField(
        "jobs.JobRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="snapshot"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The data cut: when, which form versions, how many patients and submissions.
    data_cut = models.JSONField(default=dict)
    results = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"statistics of {self.created_at:%Y-%m-%d %H:%M}"
