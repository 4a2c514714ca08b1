"""Sites and forms: what a script needs to know before it reads or writes records."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from rest_framework import generics, serializers

from registry.crfs.models import FormDefinition, FormVersion
from registry.crfs.selectors import published_forms
from registry.people.access import sites_in_scope
from registry.people.models import Site
from registry.rest.pagination import RegistryPagination


class SiteOut(serializers.ModelSerializer[Site]):
    data_access_group = serializers.SerializerMethodField(
        help_text="The site as a REDCap data access group (unique group name)."
    )

    class Meta:
        model = Site
        fields = ["code", "name", "data_access_group"]

    def get_data_access_group(self, site: Site) -> str:
        return site.code.lower()


class SiteList(generics.ListAPIView[Site]):
    """The sites whose records you may read (coordinators: their own; everyone else: all)."""

    serializer_class = SiteOut
    pagination_class = RegistryPagination

    def get_queryset(self) -> QuerySet[Site]:
        return sites_in_scope(self.request.user).order_by("code")


class SiteDetail(generics.RetrieveAPIView[Site]):
    serializer_class = SiteOut
    lookup_field = "code"

    def get_queryset(self) -> QuerySet[Site]:
        return sites_in_scope(self.request.user)


class VersionSummary(serializers.ModelSerializer[FormVersion]):
    class Meta:
        model = FormVersion
        fields = ["number", "content_hash", "published_at"]


class FormOut(serializers.ModelSerializer[FormDefinition]):
    versions = serializers.SerializerMethodField()
    latest_version = serializers.SerializerMethodField()

    class Meta:
        model = FormDefinition
        fields = ["name", "title", "repeatable", "latest_version", "versions"]

    def get_versions(self, form: FormDefinition) -> list[dict[str, Any]]:
        versions = sorted(form.versions.all(), key=lambda version: version.number)
        return VersionSummary(versions, many=True).data  # type: ignore[return-value]

    def get_latest_version(self, form: FormDefinition) -> int | None:
        numbers = [version.number for version in form.versions.all()]
        return max(numbers) if numbers else None


class FormList(generics.ListAPIView[FormDefinition]):
    """The registry's case-report forms and their published versions. Forms hold no patient
    data: anyone signed in reads them."""

    serializer_class = FormOut
    pagination_class = RegistryPagination
    queryset = published_forms()


class FormDetail(generics.RetrieveAPIView[FormDefinition]):
    serializer_class = FormOut
    lookup_field = "name"
    queryset = published_forms()


class VersionOut(serializers.ModelSerializer[FormVersion]):
    form = serializers.CharField(source="form.name")
    title = serializers.CharField(source="form.title")
    schema = serializers.JSONField(help_text="The version's full schema (docs/form-schema.md).")

    class Meta:
        model = FormVersion
        fields = ["form", "number", "title", "content_hash", "published_at", "schema"]


class VersionList(generics.ListAPIView[FormVersion]):
    """The published versions of one form, each with its full schema."""

    serializer_class = VersionOut
    pagination_class = RegistryPagination

    def get_queryset(self) -> QuerySet[FormVersion]:
        form = get_object_or_404(FormDefinition, name=self.kwargs["name"])
        return form.versions.select_related("form").order_by("number")


class VersionDetail(generics.RetrieveAPIView[FormVersion]):
    serializer_class = VersionOut

    def get_object(self) -> FormVersion:
        return get_object_or_404(
            FormVersion.objects.select_related("form"),
            form__name=self.kwargs["name"],
            number=self.kwargs["number"],
        )
