"""Submissions: read and filter within one's scope; coordinators create and update them.

Writes go through `do_save_submission`, the same door as the web forms, so the API accepts
exactly what the forms accept. Creation is idempotent on `client_uuid`; updates need
`If-Match` with the row version from the `ETag` of a read, and a stale one changes nothing.

Not for researchers (`ReadsOrEntersData`): submission ids, the registry's pseudonyms and
update times would link their releases; they receive records through exports.
"""

from __future__ import annotations

import re
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.request import Request
from rest_framework.response import Response

from registry.crfs.models import FormVersion
from registry.crfs.selectors import published_version
from registry.patients.selectors import patient_for_data_entry
from registry.rest.filters import (
    MomentFilter,
    RegistryFilterSet,
    TrueOrFalseFilter,
    WholeNumberFilter,
)
from registry.rest.mixins import AuditedListMixin
from registry.rest.pagination import RegistryPagination
from registry.rest.services import do_record_api_read
from registry.submissions.models import Status, Submission
from registry.submissions.selectors import visible_submissions
from registry.submissions.services import do_save_submission

from .permissions import ReadsOrEntersData

# The same expression in Python and in the schema (ASCII digits and blanks only).
_ETAG_PATTERN = r'^[ \t]*(W/)?"?([0-9]{1,9})"?[ \t]*$'
_ETAG = re.compile(_ETAG_PATTERN)

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    pattern=_ETAG_PATTERN,
    description='The row version from the ETag of your last read, e.g. "3". A stale one gets '
    "412 and changes nothing.",
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201],
    required=True,
    description='The row version, e.g. "3": send it back in If-Match to change the submission.',
)
LOCATION = OpenApiParameter(
    "Location",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[201],
    required=True,
    description="The new submission's URL.",
)
REPLAYED = OpenApiParameter(
    "Idempotent-Replayed",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[201],
    enum=["true"],
    description="Present when this client_uuid was sent before: the answer is "
    "the first request's submission, not a new one.",
)


class StaleOut(serializers.Serializer[Any]):
    detail = serializers.CharField()
    row_version = serializers.IntegerField(help_text="The current row version.")


class LockedOut(serializers.Serializer[Any]):
    detail = serializers.CharField()
    code = serializers.ChoiceField(choices=["locked"])


STALE_ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[412],
    required=True,
    description="The current row version.",
)
STALE = OpenApiResponse(
    StaleOut,
    description="Stale If-Match: someone saved in between; "
    "nothing changed. ETag is the current version.",
)
LOCKED = OpenApiResponse(LockedOut, description="Locked by a curator.")


class PreconditionRequired(APIException):
    status_code = 428
    default_detail = (
        "Send If-Match with the row version from the ETag of your last read "
        '(for example If-Match: "3"), so that nobody\'s changes are lost.'
    )
    default_code = "precondition_required"


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class SubmissionOut(serializers.Serializer[Submission]):
    # Declared field by field rather than by ModelSerializer, which builds its fields from the
    # model anew for every serializer: that was the costlier half of answering a create.
    id = serializers.IntegerField(read_only=True)
    patient = serializers.CharField(source="patient.pseudonym", read_only=True)
    site = serializers.CharField(source="patient.site.code", read_only=True)
    form = serializers.CharField(source="form.name", read_only=True)
    version = serializers.IntegerField(source="form_version.number", read_only=True)
    instance = serializers.IntegerField(read_only=True)
    status = serializers.ChoiceField(choices=Status.choices, read_only=True)
    locked = serializers.BooleanField(read_only=True)
    row_version = serializers.IntegerField(read_only=True)
    client_uuid = serializers.UUIDField(allow_null=True, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    data = serializers.DictField(
        read_only=True, help_text="Field name -> stored value, typed (docs/form-schema.md)."
    )


class SubmissionIn(serializers.Serializer[Any]):
    patient = serializers.CharField(help_text="The patient's pseudonym.")
    form = serializers.CharField(help_text="Form name, e.g. mirror_movements.")
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="Form version; default the latest."
    )
    instance = serializers.IntegerField(
        required=False, min_value=1, max_value=100_000, help_text="Default: the next instance."
    )
    status = serializers.ChoiceField(
        choices=Status.choices,
        default=Status.INCOMPLETE,
        help_text="incomplete and unverified are drafts, saved with required answers missing; "
        "complete needs every required answer that is shown.",
    )
    data = serializers.DictField(help_text="Field name -> value, as the web form accepts them.")
    client_uuid = serializers.UUIDField(
        required=False,
        help_text="Your key for this create: sending it again returns the "
        "first result instead of a duplicate.",
    )


class SubmissionUpdateIn(serializers.Serializer[Any]):
    data = serializers.DictField(
        help_text="The whole document (PUT) or the fields to change (PATCH; null clears a field)."
    )
    status = serializers.ChoiceField(
        choices=Status.choices,
        required=False,
        help_text="Default: unchanged. complete needs every required answer that is shown; "
        "incomplete and unverified are drafts that may miss some.",
    )


class SubmissionPatchIn(SubmissionUpdateIn):
    data = serializers.DictField(required=False)


class SubmissionFilter(RegistryFilterSet):
    form = django_filters.CharFilter(field_name="form__name", help_text="Form name.")
    version = WholeNumberFilter(field_name="form_version__number", help_text="Form version number.")
    site = django_filters.CharFilter(field_name="patient__site__code", help_text="Site code.")
    patient = django_filters.CharFilter(field_name="patient__pseudonym", help_text="Pseudonym.")
    status = django_filters.ChoiceFilter(choices=Status.choices)
    changed_since = MomentFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="Only submissions changed at or after this moment (ISO 8601).",
    )
    locked = TrueOrFalseFilter()

    class Meta:
        model = Submission
        fields = ["form", "version", "site", "patient", "status", "changed_since", "locked"]


class SubmissionList(AuditedListMixin, generics.ListCreateAPIView[Submission]):
    """Submissions you may see, filtered by form, version, site, patient, status, or changed
    since a moment (not for researchers: they receive records through exports). POST creates
    one (coordinators, at their sites)."""

    serializer_class = SubmissionOut
    pagination_class = RegistryPagination
    permission_classes = [ReadsOrEntersData]
    filter_backends = [DjangoFilterBackend]
    filterset_class = SubmissionFilter

    def get_queryset(self) -> QuerySet[Submission]:
        # A version's schema is large and not needed to show a submission.
        return (
            visible_submissions(self.request.user)
            .select_related("patient__site")
            .defer("form_version__schema")
            .order_by("pk")
        )

    @extend_schema(
        request=SubmissionIn,
        parameters=[ETAG, LOCATION, REPLAYED],
        responses={
            201: SubmissionOut,
            400: OpenApiResponse(description="Field -> messages, as the web form shows them."),
            404: OpenApiResponse(description="No such patient among those you can see."),
            409: OpenApiResponse(description="That instance exists; update it instead."),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = SubmissionIn(data=request.data)
        given.is_valid(raise_exception=True)
        values = given.validated_data
        # Coordinators see exactly the patients they enter data for, and only they and admins
        # get this far (ReadsOrEntersData): one query finds the patient and checks the site.
        patient = patient_for_data_entry(request.user, values["patient"])
        if patient is None:
            raise Http404("No Patient matches the given query.")
        version = _version(values["form"], values.get("version"))
        instance = values.get("instance")
        client_uuid = values.get("client_uuid")
        if instance is not None:
            mine = visible_submissions(request.user)
            taken = mine.filter(patient=patient, form=version.form_id, instance=instance)
            # A retried create that named its instance finds it taken by its own first
            # attempt: that one is answered with the first result (below), not 409.
            if taken.exists() and not (
                client_uuid is not None and mine.filter(client_uuid=client_uuid).exists()
            ):
                raise Conflict(
                    f"{version.form.title} #{instance} exists already for "
                    f"{patient}; update it with PUT or PATCH on its URL and "
                    "If-Match."
                )
        outcome = do_save_submission(
            request.user,
            patient,
            version,
            values["data"],
            status=values["status"],
            instance=instance,
            client_uuid=client_uuid,
        )
        submission = outcome.submission
        body = SubmissionOut(submission).data
        headers = {
            "ETag": f'"{submission.row_version}"',
            "Location": f"{request.path.rstrip('/')}/{submission.pk}/",
        }
        if not outcome.created:
            headers["Idempotent-Replayed"] = "true"
        return Response(body, status=status.HTTP_201_CREATED, headers=headers)


def _version(form: str, number: int | None) -> FormVersion:
    version = published_version(form, number or None)
    if version is None:
        what = f"version {number} of form {form!r}" if number else f"a form named {form!r}"
        raise serializers.ValidationError(
            {
                "version" if number else "form": [
                    f"There is no {what}; GET /api/v1/forms/ lists the forms and their versions."
                ]
            }
        )
    return version


class SubmissionDetail(generics.GenericAPIView[Submission]):
    """One submission (not for researchers). Reads carry an ETag (the row version); PUT
    replaces the data, PATCH changes the fields it names; both need If-Match."""

    serializer_class = SubmissionOut
    permission_classes = [ReadsOrEntersData]

    def get_queryset(self) -> QuerySet[Submission]:
        return visible_submissions(self.request.user).select_related("patient__site")

    @extend_schema(parameters=[ETAG])
    def get(self, request: Request, pk: int) -> Response:
        submission = self.get_object()
        do_record_api_read(
            request.user,
            [submission],
            endpoint=request.path,
            site=submission.patient.site,
            detail=True,
        )
        return self._answer(submission)

    @extend_schema(
        request=SubmissionUpdateIn,
        parameters=[IF_MATCH, ETAG, STALE_ETAG],
        responses={
            200: SubmissionOut,
            400: OpenApiResponse(description="Field -> messages."),
            412: STALE,
            423: LOCKED,
            428: OpenApiResponse(description="If-Match is missing."),
        },
    )
    def put(self, request: Request, pk: int) -> Response:
        return self._save(request, SubmissionUpdateIn, merge=False)

    @extend_schema(
        request=SubmissionPatchIn,
        parameters=[IF_MATCH, ETAG, STALE_ETAG],
        responses={
            200: SubmissionOut,
            400: OpenApiResponse(description="Field -> messages."),
            412: STALE,
            423: LOCKED,
            428: OpenApiResponse(description="If-Match is missing."),
        },
    )
    def patch(self, request: Request, pk: int) -> Response:
        return self._save(request, SubmissionPatchIn, merge=True)

    def _save(
        self, request: Request, serializer: type[serializers.Serializer[Any]], *, merge: bool
    ) -> Response:
        submission = self.get_object()
        expected = _row_version(request)
        given = serializer(data=request.data)
        given.is_valid(raise_exception=True)
        values = given.validated_data
        data = values.get("data", {})
        if merge:
            data = {**submission.data, **data}
        outcome = do_save_submission(
            request.user,
            submission.patient,
            submission.form_version,
            data,
            status=values.get("status", submission.status),
            instance=submission.instance,
            expected_row_version=expected,
        )
        return self._answer(outcome.submission)

    def _answer(self, submission: Submission) -> Response:
        body = SubmissionOut(submission).data
        return Response(body, headers={"ETag": f'"{submission.row_version}"'})


def _row_version(request: Request) -> int:
    header = request.headers.get("If-Match")
    if header is None:
        raise PreconditionRequired()
    match = _ETAG.match(header)
    if match is None:
        raise ParseError('If-Match must be the row version from the ETag, for example "3".')
    return int(match[2])
