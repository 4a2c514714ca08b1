"""Data queries (read only): the questions curators raised on submissions, with their threads."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from registry.curation.models import DataQuery, DataQueryMessage, QueryStatus
from registry.rest.filters import MomentFilter, RegistryFilterSet, WholeNumberFilter
from registry.rest.mixins import AuditedListMixin
from registry.rest.pagination import RegistryPagination
from registry.rest.services import do_record_api_read

from .permissions import WorksOnData
from .selectors import data_queries_with_threads


class MessageOut(serializers.ModelSerializer[DataQueryMessage]):
    author = serializers.CharField(source="author.username")

    class Meta:
        model = DataQueryMessage
        fields = ["kind", "author", "text", "at"]


class DataQueryOut(serializers.ModelSerializer[DataQuery]):
    patient = serializers.CharField(source="submission.patient.pseudonym")
    site = serializers.CharField(source="submission.patient.site.code")
    form = serializers.CharField(source="submission.form.name")
    instance = serializers.IntegerField(source="submission.instance")
    opened_by = serializers.CharField(source="opened_by.username")
    messages = MessageOut(many=True)

    class Meta:
        model = DataQuery
        fields = [
            "id",
            "submission",
            "patient",
            "site",
            "form",
            "instance",
            "field",
            "status",
            "opened_by",
            "opened_at",
            "updated_at",
            "closed_at",
            "messages",
        ]


class DataQueryFilter(RegistryFilterSet):
    status = django_filters.ChoiceFilter(choices=QueryStatus.choices)
    site = django_filters.CharFilter(field_name="submission__patient__site__code")
    form = django_filters.CharFilter(field_name="submission__form__name")
    patient = django_filters.CharFilter(field_name="submission__patient__pseudonym")
    changed_since = MomentFilter(field_name="updated_at", lookup_expr="gte")
    # By number, not as a choice among all submissions: whether some other site's submission
    # exists is none of the caller's business.
    submission = WholeNumberFilter(field_name="submission_id", help_text="Submission id.")

    class Meta:
        model = DataQuery
        fields = ["status", "site", "form", "patient", "submission", "changed_since"]


class DataQueryList(AuditedListMixin, generics.ListAPIView[DataQuery]):
    """Data queries on the submissions you may see (not for researchers)."""

    serializer_class = DataQueryOut
    pagination_class = RegistryPagination
    permission_classes = [WorksOnData]
    filter_backends = [DjangoFilterBackend]
    filterset_class = DataQueryFilter

    def get_queryset(self) -> QuerySet[DataQuery]:
        return data_queries_with_threads(self.request.user).order_by("pk")


class DataQueryDetail(generics.RetrieveAPIView[DataQuery]):
    serializer_class = DataQueryOut
    permission_classes = [WorksOnData]

    def get_queryset(self) -> QuerySet[DataQuery]:
        return data_queries_with_threads(self.request.user)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = self.get_object()
        do_record_api_read(
            request.user,
            [query],
            endpoint=request.path,
            site=query.submission.patient.site,
            detail=True,
        )
        return Response(self.get_serializer(query).data)
