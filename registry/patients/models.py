"""A patient is a registry record: a pseudonym at a site, with no direct identifier."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from registry.people.scoping import ScopedManager


class Sex(models.TextChoices):
    MALE = "male", "Male"
    FEMALE = "female", "Female"
    UNDETERMINED = "undetermined", "Undetermined"
    UNKNOWN = "unknown", "Unknown"


class Patient(models.Model):
    """No name, date of birth or hospital number is ever stored: only what is below."""

    site = models.ForeignKey("people.Site", on_delete=models.PROTECT, related_name="patients")
    pseudonym = models.CharField(max_length=32, unique=True)
    sex = models.CharField(max_length=16, choices=Sex.choices)
    year_of_birth = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = ScopedManager("site")

    class Meta:
        ordering = ["site", "pseudonym"]

    def __str__(self) -> str:
        return self.pseudonym
