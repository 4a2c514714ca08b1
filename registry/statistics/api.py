"""REST API of statistics: snapshots, suppressed for everyone but curators and admins."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from registry.rest.pagination import RegistryPagination

from .models import StatsSnapshot
from .selectors import (
    data_cut_for,
    latest_snapshot,
    results_for,
    sees_unsuppressed,
    snapshot_for,
    suppression_threshold,
    visible_snapshots,
)

VIEW_PARAMETER = OpenApiParameter(
    "view",
    str,
    enum=["researcher"],
    required=False,
    description="Curators and admins: `researcher` shows the figures as researchers see them.",
)


class SnapshotPagination(RegistryPagination):
    page_size = 50
    max_page_size = 500


class SnapshotSummaryOut(serializers.Serializer[StatsSnapshot]):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    job_run = serializers.IntegerField(source="job_run_id", allow_null=True)
    data_cut = serializers.JSONField()
    suppressed = serializers.BooleanField()


class SnapshotOut(SnapshotSummaryOut):
    threshold = serializers.IntegerField(help_text="Counts below this are suppressed.")
    results = serializers.JSONField(
        help_text="Count tables and numeric summaries; see docs/statistics.md."
    )


def _as_researcher(request: Request) -> bool:
    view = request.query_params.get("view")
    if view not in (None, "researcher"):
        raise ValidationError(
            {"view": [f"view can only be 'researcher' (or left out); you sent {view[:40]!r}."]}
        )
    return view == "researcher"


def _summary(request: Request, snapshot: StatsSnapshot, as_researcher: bool) -> dict[str, Any]:
    return {
        "id": snapshot.pk,
        "created_at": snapshot.created_at,
        "job_run": snapshot.job_run_id,
        "data_cut": data_cut_for(request.user, snapshot, as_researcher=as_researcher),
        "suppressed": as_researcher or not sees_unsuppressed(request.user),
    }


def _full(request: Request, snapshot: StatsSnapshot) -> dict[str, Any]:
    as_researcher = _as_researcher(request)
    return {
        **_summary(request, snapshot, as_researcher),
        "threshold": suppression_threshold(),
        "results": results_for(request.user, snapshot, as_researcher=as_researcher),
    }


class SnapshotList(generics.ListAPIView[StatsSnapshot]):
    """Statistics snapshots, newest first (their data cuts; the figures are on each one)."""

    serializer_class = SnapshotSummaryOut
    pagination_class = SnapshotPagination

    def get_queryset(self) -> QuerySet[StatsSnapshot]:
        return visible_snapshots(self.request.user)

    @extend_schema(parameters=[VIEW_PARAMETER])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        as_researcher = _as_researcher(request)
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            SnapshotSummaryOut(
                [_summary(request, s, as_researcher) for s in page or []], many=True
            ).data
        )


class LatestSnapshot(APIView):
    """The newest snapshot with its figures (404 when none has been computed yet)."""

    @extend_schema(
        parameters=[VIEW_PARAMETER],
        responses={
            200: SnapshotOut,
            404: OpenApiResponse(description="No statistics have been computed yet."),
        },
    )
    def get(self, request: Request) -> Response:
        _as_researcher(request)  # a wrong `view` is a 400 even before any snapshot exists
        snapshot = latest_snapshot(request.user)
        if snapshot is None:
            raise Http404("No statistics have been computed yet.")
        return Response(SnapshotOut(_full(request, snapshot)).data)


class SnapshotDetail(APIView):
    """One snapshot with its figures."""

    @extend_schema(responses=SnapshotOut, parameters=[VIEW_PARAMETER])
    def get(self, request: Request, pk: int) -> Response:
        return Response(SnapshotOut(_full(request, snapshot_for(request.user, pk))).data)
