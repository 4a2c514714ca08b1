"""Query parameters as the OpenAPI schema states them, for the API's lists and exports.

django-filter and DRF both take a parameter sent empty (`?changed_since=`) for one left out,
and django-filter ignores a value it cannot read (`?locked=maybe`): the request is answered as
if it asked for everything. Here a typed parameter sent empty, or a value of the wrong type, is
a 400 naming the parameter; a text parameter sent empty still means "not given".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

# What databases count to: a bigger number matches nothing, and SQLite refuses it outright.
_MOST = 2**63 - 1


def _sent_empty(name: str) -> str:
    return f"{name} was sent empty: give a value, or leave the parameter out."


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


class _WholeNumber(forms.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=0, max_value=_MOST, **kwargs)


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": _MOST})
class WholeNumberFilter(django_filters.NumberFilter):
    """`?version=2`: a whole number, as the schema says; `2.5` is a 400, not version 2."""

    field_class = _WholeNumber


class _TrueOrFalse(forms.NullBooleanField):
    widget = forms.TextInput

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        answer = {"true": True, "false": False, "1": True, "0": False}.get(str(value).lower())
        if answer is None:
            raise ValidationError(f"Give true or false; you sent {str(value)[:40]!r}.")
        return answer


class TrueOrFalseFilter(django_filters.BooleanFilter):
    """`?locked=true`; anything but true or false is a 400 (django-filter would ignore it and
    answer every row)."""

    field_class = _TrueOrFalse


class RegistryFilterSet(django_filters.FilterSet):
    """A FilterSet whose typed filters refuse an empty value (text filters take it as absent)."""

    def get_form_class(self) -> type[forms.Form]:
        form_class = super().get_form_class()
        typed = [
            name
            for name, field in self.filters.items()
            if not isinstance(field, django_filters.CharFilter)
        ]

        class Form(form_class):  # type: ignore[valid-type, misc]
            def clean(self) -> dict[str, Any]:
                for name in typed:
                    if self.data.get(name) == "":
                        self.add_error(name, _sent_empty(name))
                return super().clean()  # type: ignore[no-any-return]

        return Form


class QueryParameters(serializers.Serializer[Any]):
    """A serializer of query parameters whose typed fields refuse an empty value."""

    def to_internal_value(self, data: Any) -> Any:
        if html.is_html_input(data):
            empty = {
                name: [_sent_empty(name)]
                for name, field in self.fields.items()
                if data.get(name) == ""
                and not isinstance(field, serializers.CharField | serializers.ListField)
            }
            if empty:
                raise serializers.ValidationError(empty)
        return super().to_internal_value(data)
