"""REST API of job runs: curators and admins list, follow, start and re-run them."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import APIException, PermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from registry.rest.openapi import VALIDATION_ERROR_REF
from registry.rest.pagination import RegistryPagination

from .models import JobRun
from .selectors import can_see_runs, run_for, visible_runs
from .services import STARTABLE_KINDS, do_fail_stale_runs, do_rerun_job, do_start_job

NO_ACCESS = "Background jobs are run by curators and admins."


class RunPagination(RegistryPagination):
    page_size = 50
    max_page_size = 500


class SeesRuns(BasePermission):
    message = NO_ACCESS

    def has_permission(self, request: Request, view: Any) -> bool:
        return can_see_runs(request.user)


class CannotRerun(APIException):
    """The run is not one that can be started again (it did not fail, or is an export)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "cannot_rerun"


LOCATION = OpenApiParameter(
    "Location",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[202],
    required=True,
    description="The new run's URL, to follow its progress.",
)


class RunOut(serializers.ModelSerializer[JobRun]):
    requested_by = serializers.CharField(
        source="requested_by.username", default=None, allow_null=True
    )
    progress_percent = serializers.IntegerField()
    page = serializers.SerializerMethodField(help_text="The run's page in the browser.")

    class Meta:
        model = JobRun
        fields = [
            "id",
            "kind",
            "status",
            "parameters",
            "progress_done",
            "progress_total",
            "progress_percent",
            "counts",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "requested_by",
            "rerun_of",
            "page",
        ]

    def get_page(self, run: JobRun) -> str:
        return reverse("jobs:run", args=[run.pk])


class StartIn(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=[kind.value for kind in STARTABLE_KINDS])
    full = serializers.BooleanField(
        default=False,
        help_text="Quality runs: check every patient, not only those changed "
        "since the last successful run.",
    )


def _started(request: Request, run: JobRun) -> Response:
    run.refresh_from_db()
    body = RunOut(run).data
    return Response(
        body,
        status=status.HTTP_202_ACCEPTED,
        headers={"Location": reverse("api-jobs-run", args=[run.pk])},
    )


class RunList(generics.ListAPIView[JobRun]):
    """Statistics and quality runs, newest first; POST starts one."""

    serializer_class = RunOut
    pagination_class = RunPagination
    permission_classes = [SeesRuns]

    def get_queryset(self) -> QuerySet[JobRun]:
        return visible_runs(self.request.user)

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        do_fail_stale_runs()
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(RunOut(page, many=True).data)

    @extend_schema(request=StartIn, responses={202: RunOut}, parameters=[LOCATION])
    def post(self, request: Request) -> Response:
        incoming = StartIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            run = do_start_job(
                request.user, incoming.validated_data["kind"], full=incoming.validated_data["full"]
            )
        except DjangoPermissionDenied as error:
            raise PermissionDenied(str(error)) from error
        except ValidationError as error:
            raise ApiValidationError(error.message_dict) from error
        return _started(request, run)


class RunDetail(APIView):
    """One run (404 for people who do not see runs)."""

    @extend_schema(responses=RunOut)
    def get(self, request: Request, pk: int) -> Response:
        do_fail_stale_runs()
        return Response(RunOut(run_for(request.user, pk)).data)


class RunRerun(APIView):
    """Start a failed run again (a new run pointing back at it)."""

    @extend_schema(
        request=None,
        parameters=[LOCATION],
        responses={
            202: RunOut,
            409: OpenApiResponse(
                VALIDATION_ERROR_REF,
                description="Only a failed statistics or quality run can be re-run.",
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        failed = run_for(request.user, pk)
        try:
            run = do_rerun_job(request.user, failed)
        except ValidationError as error:
            # The request is well formed; the run's state is what stands in the way.
            raise CannotRerun(error.message_dict) from error
        return _started(request, run)
