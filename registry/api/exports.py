"""Research exports: streamed now, or written by a job to download later.

`GET /api/v1/exports/<shape>/` streams the export (memory stays flat however many rows);
`POST /api/v1/exports/jobs/` asks for the same as a background job that writes a file, whose
progress `GET /api/v1/exports/jobs/<id>/` shows and whose file `.../file/` downloads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, renderers, serializers, status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from registry.audit.services import record_event
from registry.exchange.export_spec import ExportSpec
from registry.exchange.services import (
    do_request_export_job,
    do_start_export,
    set_release_headers,
)
from registry.exchange.shapes import SHAPES
from registry.jobs.models import JobRun, JobStatus
from registry.rest.filters import QueryParameters
from registry.submissions.models import Status

from .selectors import visible_export_jobs


class _TextRenderer(renderers.BaseRenderer):
    """Lets clients ask for the export's media type (`Accept: text/csv`) without a 406; the
    export itself is streamed, and errors are JSON (ExportErrorsAsJson)."""

    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if isinstance(data, bytes):
            return data
        return json.dumps(data).encode()


class ExportErrorsAsJson:
    """Errors are JSON with their JSON media type, whichever export media type was asked for."""

    def handle_exception(self, exc: Exception) -> Response:
        response: Response = super().handle_exception(exc)  # type: ignore[misc]
        self.request.accepted_renderer = renderers.JSONRenderer()  # type: ignore[attr-defined]
        self.request.accepted_media_type = "application/json"  # type: ignore[attr-defined]
        return response


# What an export or an export's file is, by media type. JSON is an array of objects: rows of
# the flat layout, or one record per submission (docs/api.md).
_JSON_ROWS = {"type": "array", "items": {"type": "object", "additionalProperties": True}}
_FILE = OpenApiTypes.BINARY


def export_responses(description: str) -> dict[Any, Any]:
    return {
        (200, "text/csv"): OpenApiResponse(_FILE, description=description),
        (200, "application/json"): OpenApiResponse(_JSON_ROWS, description=description),
        (200, "application/x-ndjson"): OpenApiResponse(_FILE, description=description),
    }


CONTENT_DISPOSITION = OpenApiParameter(
    "Content-Disposition",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200],
    required=True,
    description='attachment; filename="registry-<shape>.<extension>"',
)


LOCATION = OpenApiParameter(
    "Location",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[202],
    required=True,
    description="The job's URL, to follow its progress.",
)


class CsvRenderer(_TextRenderer):
    media_type = "text/csv"
    format = "csv"


class NdjsonRenderer(_TextRenderer):
    media_type = "application/x-ndjson"
    format = "ndjson"


class ExportQuery(QueryParameters):
    form = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Forms to export (repeat the parameter); default all.",
    )
    field = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Fields to export; default all of the forms.",
    )
    site = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Site codes; default all you may see.",
    )
    status = serializers.ListField(
        child=serializers.ChoiceField(choices=Status.choices), required=False
    )
    record = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Pseudonyms; default all."
    )
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="Only submissions on this version (one form)."
    )
    changed_since = serializers.DateTimeField(
        required=False,
        help_text="Only submissions changed at or after this moment (not for "
        "researchers: a release carries no update times).",
    )
    changed_until = serializers.DateTimeField(
        required=False,
        help_text="Only submissions changed at or before this moment (not for researchers).",
    )
    labels = serializers.BooleanField(
        required=False, default=False, help_text="Flat exports: choice labels instead of codes."
    )
    filter = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=4000,
        help_text="REDCap logic each row must satisfy, e.g. [mm_present] = '1'.",
    )

    def spec(self) -> ExportSpec:
        values = self.validated_data
        return ExportSpec(
            forms=tuple(values.get("form", ())),
            fields=tuple(values.get("field", ())),
            sites=tuple(values.get("site", ())),
            statuses=tuple(values.get("status", ())),
            records=tuple(values.get("record", ())),
            version=values.get("version"),
            changed_since=values.get("changed_since"),
            changed_until=values.get("changed_until"),
            labels=values.get("labels", False),
            filter_logic=values.get("filter", ""),
        )


class ExportJobIn(ExportQuery):
    shape = serializers.ChoiceField(choices=list(SHAPES))


class ExportJobOut(serializers.ModelSerializer[JobRun]):
    shape = serializers.CharField(source="parameters.shape")
    file_url = serializers.SerializerMethodField()

    class Meta:
        model = JobRun
        fields = [
            "id",
            "shape",
            "status",
            "progress_done",
            "progress_total",
            "counts",
            "created_at",
            "started_at",
            "finished_at",
            "error",
            "file_url",
        ]

    def get_file_url(self, run: JobRun) -> str | None:
        if run.status != JobStatus.SUCCEEDED or not run.result_file:
            return None
        return f"/api/v1/exports/jobs/{run.pk}/file/"


class ExportStream(ExportErrorsAsJson, APIView):
    """Stream an export: flat-csv (REDCap's layout), flat-json, long-csv (patient, form,
    version, instance, field, value), json or ndjson (one typed record per submission)."""

    renderer_classes = [renderers.JSONRenderer, CsvRenderer, NdjsonRenderer]

    @extend_schema(
        parameters=[
            ExportQuery,
            OpenApiParameter(
                "shape",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=list(SHAPES),
                description="The export's layout (below).",
            ),
            CONTENT_DISPOSITION,
        ],
        responses={
            **export_responses(
                "The export: text/csv for flat-csv and long-csv, JSON for "
                "flat-json and json, NDJSON for ndjson."
            ),
            400: OpenApiResponse(description="Parameter -> what is wrong with it."),
            404: OpenApiResponse(description="No such export shape."),
        },
    )
    def get(self, request: Request, shape: str) -> StreamingHttpResponse:
        if shape not in SHAPES:
            raise NotFound(f"There is no {shape!r} export; choose one of: {', '.join(SHAPES)}.")
        query = ExportQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        started = do_start_export(request.user, shape, query.spec(), via="api")
        response = StreamingHttpResponse(
            started.chunks, content_type=f"{started.media_type}; charset=utf-8"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="registry-{shape}.{SHAPES[shape].extension}"'
        )
        set_release_headers(response, started.manifest)
        return response


class ExportJobList(generics.GenericAPIView[JobRun]):
    """Ask for an export as a background job (for very large exports)."""

    serializer_class = ExportJobOut

    def get_queryset(self) -> QuerySet[JobRun]:
        return visible_export_jobs(self.request.user)

    @extend_schema(request=ExportJobIn, responses={202: ExportJobOut}, parameters=[LOCATION])
    def post(self, request: Request) -> Response:
        given = ExportJobIn(data=request.data)
        given.is_valid(raise_exception=True)
        run = do_request_export_job(request.user, given.validated_data["shape"], given.spec())
        run.refresh_from_db()
        return Response(
            ExportJobOut(run).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": f"/api/v1/exports/jobs/{run.pk}/"},
        )


class ExportJobDetail(generics.RetrieveAPIView[JobRun]):
    """An export job's status and progress; `file_url` once the file is ready."""

    serializer_class = ExportJobOut

    def get_queryset(self) -> QuerySet[JobRun]:
        return visible_export_jobs(self.request.user)


class NotReady(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "not_ready"


class ExportJobFile(ExportErrorsAsJson, generics.GenericAPIView[JobRun]):
    """Download the file an export job wrote."""

    serializer_class = ExportJobOut
    renderer_classes = [renderers.JSONRenderer, CsvRenderer, NdjsonRenderer]

    def get_queryset(self) -> QuerySet[JobRun]:
        return visible_export_jobs(self.request.user)

    @extend_schema(
        parameters=[CONTENT_DISPOSITION],
        responses={
            **export_responses("The file, in the media type of the export's shape."),
            404: OpenApiResponse(description="No such job among yours, or its file is gone."),
            409: OpenApiResponse(description="Not finished yet."),
        },
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        run = self.get_object()
        if run.status != JobStatus.SUCCEEDED or not run.result_file:
            raise NotReady(
                f"The export is {run.status} ({run.progress_done} of "
                f"{run.progress_total} rows); try again when it has succeeded."
            )
        path = Path(run.result_file)
        if not path.is_file():
            raise NotFound("The export file is gone (exports are cleaned up); ask for a new one.")
        record_event(request.user, "export.download", run, context={"file": path.name})
        shape = SHAPES.get(run.parameters.get("shape", ""))
        return FileResponse(
            path.open("rb"),
            as_attachment=True,
            filename=path.name,
            content_type=shape.media_type if shape else None,
        )
