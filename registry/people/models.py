"""Sites, the people who work in the registry, their roles, and their API tokens."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

SITE_CODE_PATTERN = r"^[A-Z][A-Z0-9]{1,11}$"


class Site(models.Model):
    """A participating centre. Its short code prefixes its patients' pseudonyms."""

    code = models.CharField(
        max_length=12,
        unique=True,
        validators=[
            RegexValidator(
                SITE_CODE_PATTERN,
                "A site code is 2 to 12 capital letters or digits, starting with a letter "
                "(for example TUMS).",
            )
        ],
    )
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"


class Role(models.TextChoices):
    COORDINATOR = "coordinator", "Site coordinator"
    CURATOR = "curator", "Curator"
    RESEARCHER = "researcher", "Researcher"
    ADMIN = "admin", "Administrator"


class User(AbstractUser):
    """A person with one registry-wide role; coordinators also belong to one or more sites."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.COORDINATOR)
    sites: models.ManyToManyField[Site, SiteMembership] = models.ManyToManyField(
        Site, through="SiteMembership", related_name="members"
    )

    @property
    def sees_all_sites(self) -> bool:
        return self.role in (Role.CURATOR, Role.RESEARCHER, Role.ADMIN)


class SiteMembership(models.Model):
    """A coordinator's membership of a site: the sites whose patients they may see and edit."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="memberships")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "site"], name="one_membership_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.site.code}"


class ApiToken(models.Model):
    """A script's credential. Only a hash is kept: the token itself is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"token {self.name or self.pk} of {self.user}"

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
