"""Case-report forms and their published versions. A published version never changes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class PublishedVersionIsImmutable(Exception):
    """Raised on any attempt to change a published form version."""


class FormDefinition(models.Model):
    """A CRF such as `mirror_movements`: the stable name its versions share."""

    name = models.CharField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    repeatable = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class FormVersion(models.Model):
    """One published version: its full schema as data, and the hash of that schema."""

    form = models.ForeignKey(FormDefinition, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    schema = models.JSONField()
    content_hash = models.CharField(max_length=64)
    source = models.CharField(max_length=300, blank=True)
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["form__name", "number"]
        constraints = [
            models.UniqueConstraint(fields=["form", "number"], name="one_version_per_number")
        ]

    def __str__(self) -> str:
        return f"{self.form.name} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PublishedVersionIsImmutable(
                f"{self} is published and cannot be changed; publish a new version instead."
            )
        super().save(*args, **kwargs)
