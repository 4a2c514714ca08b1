"""Filter fields the API's lists share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, turned into UTC: PostgreSQL accepts offsets only up to 15:59,
    and a moment given with any offset means the same instant in UTC."""

    def to_python(self, value: Any) -> datetime | None:
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise ValidationError(
                "This moment is out of range; give one such as 2025-03-01T00:00:00Z."
            ) from None


class MomentFilter(django_filters.IsoDateTimeFilter):
    """`?changed_since=2025-03-01T00:00:00Z` and the like."""

    field_class = UtcIsoDateTimeField
