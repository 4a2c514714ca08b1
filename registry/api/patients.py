"""Patients: read within one's scope; coordinators enrol them (local ID in, pseudonym out).

Not for researchers (`ReadsOrEntersData`): they receive records through releases.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from registry.patients.models import Patient, Sex
from registry.patients.selectors import visible_patients
from registry.patients.services import do_enrol_patient
from registry.people.access import sites_in_scope
from registry.rest.filters import MomentFilter, RegistryFilterSet, WholeNumberFilter
from registry.rest.mixins import AuditedListMixin
from registry.rest.pagination import RegistryPagination
from registry.rest.services import do_record_api_read

from .permissions import ReadsOrEntersData


class PatientOut(serializers.ModelSerializer[Patient]):
    site = serializers.CharField(source="site.code")

    class Meta:
        model = Patient
        fields = ["pseudonym", "site", "sex", "year_of_birth", "created_at"]


class EnrolmentOut(PatientOut):
    created = serializers.BooleanField(
        help_text="False when the local ID was enrolled before: this is that patient."
    )

    class Meta(PatientOut.Meta):
        fields = [*PatientOut.Meta.fields, "created"]


class EnrolmentIn(serializers.Serializer[Any]):
    site = serializers.CharField(help_text="Site code, e.g. TUMS.")
    local_id = serializers.CharField(
        write_only=True,
        max_length=100,
        help_text="The patient's local hospital ID. Hashed into the pseudonym; never stored "
        "or sent back.",
    )
    sex = serializers.ChoiceField(choices=Sex.choices)
    year_of_birth = serializers.IntegerField(min_value=1, max_value=9999)


class PatientFilter(RegistryFilterSet):
    site = django_filters.CharFilter(field_name="site__code", help_text="Site code.")
    created_since = MomentFilter(field_name="created_at", lookup_expr="gte")
    year_of_birth = WholeNumberFilter()

    class Meta:
        model = Patient
        fields = ["site", "sex", "year_of_birth", "created_since"]


class PatientList(AuditedListMixin, generics.ListCreateAPIView[Patient]):
    """Patients you may see (not for researchers: they receive records through exports). POST
    enrols one (coordinators: at their sites)."""

    serializer_class = PatientOut
    pagination_class = RegistryPagination
    permission_classes = [ReadsOrEntersData]
    filter_backends = [DjangoFilterBackend]
    filterset_class = PatientFilter

    def get_queryset(self) -> QuerySet[Patient]:
        return visible_patients(self.request.user).order_by("pk")

    @extend_schema(
        request=EnrolmentIn,
        responses={
            201: EnrolmentOut,
            200: OpenApiResponse(
                EnrolmentOut, description="That local ID was enrolled before: this is the patient."
            ),
            404: OpenApiResponse(description="No such site among those you enter data for."),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = EnrolmentIn(data=request.data)
        given.is_valid(raise_exception=True)
        site = get_object_or_404(sites_in_scope(request.user), code=given.validated_data["site"])
        enrolment = do_enrol_patient(
            request.user,
            site,
            local_id=given.validated_data["local_id"],
            sex=given.validated_data["sex"],
            year_of_birth=given.validated_data["year_of_birth"],
        )
        body = {**PatientOut(enrolment.patient).data, "created": enrolment.created}
        return Response(
            body, status=status.HTTP_201_CREATED if enrolment.created else status.HTTP_200_OK
        )


class PatientDetail(generics.RetrieveAPIView[Patient]):
    """One patient, by pseudonym (not for researchers)."""

    serializer_class = PatientOut
    permission_classes = [ReadsOrEntersData]
    lookup_field = "pseudonym"

    def get_queryset(self) -> QuerySet[Patient]:
        return visible_patients(self.request.user)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient = self.get_object()
        do_record_api_read(
            request.user, [patient], endpoint=request.path, site=patient.site, detail=True
        )
        return Response(self.get_serializer(patient).data)
