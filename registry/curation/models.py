"""Data queries: the data resolution workflow between curators and site coordinators."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from registry.people.scoping import ScopedManager


class QueryStatus(models.TextChoices):
    OPEN = "open", "Open"
    ANSWERED = "answered", "Answered"
    CLOSED = "closed", "Closed"


class DataQuery(models.Model):
    """A question a curator raises on one field of a submission: open -> answered -> closed.

    A closed query may be re-opened; the whole thread is kept in `messages`.
    """

    submission = models.ForeignKey(
        "submissions.Submission", on_delete=models.PROTECT, related_name="queries"
    )
    field = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=QueryStatus.choices, default=QueryStatus.OPEN)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager("submission__patient__site")

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["status", "updated_at"])]
        verbose_name_plural = "data queries"

    def __str__(self) -> str:
        return f"query on {self.submission} [{self.field}] ({self.status})"


class MessageKind(models.TextChoices):
    QUESTION = "question", "Question"
    ANSWER = "answer", "Answer"
    CLOSE = "close", "Closed"
    REOPEN = "reopen", "Re-opened"


class DataQueryMessage(models.Model):
    """One turn of a query's thread. Never edited: a correction is a new message."""

    query = models.ForeignKey(DataQuery, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=MessageKind.choices)
    text = models.TextField()
    at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager("query__submission__patient__site")

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.author} at {self.at:%Y-%m-%d %H:%M}"
