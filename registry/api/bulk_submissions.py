"""Creating many submissions in one request: all of them, or none.

`POST /api/v1/submissions/bulk/` takes a JSON list of the bodies `POST /api/v1/submissions/`
takes, and hands them to `do_save_submissions_bulk`, which validates each exactly as a single
save and audits each with the same event. Errors are keyed by the item's position in the list,
then by field. Each item may carry its own `client_uuid`: sending the batch again after a
timeout returns the submissions made the first time instead of duplicates.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

from registry.crfs.models import FormVersion
from registry.exchange.layout import RegistryLayout, current_layout
from registry.patients.models import Patient
from registry.patients.selectors import visible_patients, with_pseudonyms
from registry.people.models import User
from registry.rest.openapi import VALIDATION_ERROR_REF
from registry.rest.parsers import BoundedJSONParser
from registry.submissions.models import Submission
from registry.submissions.services import (
    BulkItem,
    BulkSaveRefused,
    SaveOutcome,
    do_save_submissions_bulk,
)

from .permissions import ReadsOrEntersData
from .submissions import REPLAYED, SubmissionIn, SubmissionOut

MAX_BATCH: Final = 1000
"""Most submissions one request may create: a batch is validated and written in one
transaction, and a client retrying a smaller batch after a timeout loses less."""

ItemErrors = dict[str, dict[str, list[str]]]


class BatchRefused(APIException):
    """Some items cannot be created, so none was; the body maps item position -> field ->
    messages."""

    def __init__(self, errors: ItemErrors, status_code: int) -> None:
        self.status_code = status_code
        super().__init__(errors)


class SubmissionBulk(generics.GenericAPIView[Submission]):
    """Create up to 1000 submissions at once (coordinators, at their sites): all, or none."""

    serializer_class = SubmissionIn
    permission_classes = [ReadsOrEntersData]
    # A batch is a list, which only JSON can send.
    parser_classes = [BoundedJSONParser]

    @extend_schema(
        request=SubmissionIn(many=True, min_length=1, max_length=MAX_BATCH),
        parameters=[REPLAYED],
        responses={
            201: SubmissionOut(many=True),
            400: OpenApiResponse(
                description="Item position -> field -> messages, e.g. "
                '{"3": {"mm_age_months": ["..."]}}; nothing was '
                "saved. Also for an empty or too large batch."
            ),
            403: OpenApiResponse(
                description="Your role does not enter data, or not at one of the patients' sites."
            ),
            404: OpenApiResponse(description="A patient is not among those you can see."),
            409: OpenApiResponse(
                VALIDATION_ERROR_REF,
                description="Item position -> instance: that instance "
                "exists; update it on its own URL.",
            ),
            423: OpenApiResponse(
                VALIDATION_ERROR_REF,
                description="Item position -> messages: a curator locked that submission.",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        bodies = _batch(request.data)
        given = SubmissionIn(data=bodies, many=True)
        if not given.is_valid():
            raise BatchRefused(_by_position(given.errors), status.HTTP_400_BAD_REQUEST)
        values: list[dict[str, Any]] = list(given.validated_data)
        user = request.user
        assert isinstance(user, User)
        items = _items(user, values)
        try:
            outcomes = _save(user, items)
        except DjangoValidationError:
            if not any(item.client_uuid for item in items):
                raise
            # Two retries of one batch racing each other: the loser's insert hits the unique
            # key, and asking again returns the winner's submissions (or the same errors).
            outcomes = _save(user, items)
        body = SubmissionOut([outcome.submission for outcome in outcomes], many=True).data
        headers = {}
        if not any(outcome.created for outcome in outcomes):
            headers["Idempotent-Replayed"] = "true"
        return Response(body, status=status.HTTP_201_CREATED, headers=headers)


def _batch(data: Any) -> list[Any]:
    if not isinstance(data, list):
        raise serializers.ValidationError(
            {
                "detail": [
                    "Send a JSON list of submissions, each as POST /api/v1/submissions/ takes it."
                ]
            }
        )
    if not data:
        raise serializers.ValidationError(
            {"detail": ["The list is empty: send at least one submission."]}
        )
    if len(data) > MAX_BATCH:
        raise serializers.ValidationError(
            {
                "detail": [
                    f"At most {MAX_BATCH} submissions per request; this one has {len(data)}. Send "
                    f"them in batches of {MAX_BATCH} or fewer."
                ]
            }
        )
    # DRF would report a null item with a bare list of messages, not by field.
    not_objects = {
        str(index): {
            "non_field_errors": [
                "Each submission is an object, as POST /api/v1/submissions/ takes it; this one is "
                f"{json.dumps(item)[:40]}."
            ]
        }
        for index, item in enumerate(data)
        if not isinstance(item, dict)
    }
    if not_objects:
        raise BatchRefused(not_objects, status.HTTP_400_BAD_REQUEST)
    return data


def _by_position(errors: Sequence[Mapping[str, Any]]) -> ItemErrors:
    return {
        str(index): {
            field: [str(message) for message in messages] for field, messages in item.items()
        }
        for index, item in enumerate(errors)
        if item
    }


def _items(user: User, values: list[dict[str, Any]]) -> list[BulkItem]:
    wanted = {value["patient"] for value in values}
    patients: dict[str, Patient] = {
        patient.pseudonym: patient
        for patient in with_pseudonyms(visible_patients(user), sorted(wanted))
    }
    for index, value in enumerate(values):
        if value["patient"] not in patients:
            raise Http404(f"Item {index}: no patient {value['patient']} among those you can see.")
    errors: ItemErrors = {}
    items = []
    # Once per batch: finding the current layout costs a query.
    layout = current_layout()
    for index, value in enumerate(values):
        version = _version(layout, value["form"], value.get("version"), errors, index)
        if version is None:
            continue
        items.append(
            BulkItem(
                patient=patients[value["patient"]],
                form_version=version,
                data=value["data"],
                status=value["status"],
                instance=value.get("instance"),
                client_uuid=value.get("client_uuid"),
            )
        )
    if errors:
        raise BatchRefused(errors, status.HTTP_400_BAD_REQUEST)
    return items


def _version(
    layout: RegistryLayout, form: str, number: int | None, errors: ItemErrors, index: int
) -> FormVersion | None:
    # The layout's versions are cached per process: a version's schema is large.
    form_layout = layout.by_name.get(form)
    if form_layout is None:
        errors[str(index)] = {
            "form": [f"There is no form named {form!r}; GET /api/v1/forms/ lists the forms."]
        }
        return None
    if number is None:
        return form_layout.latest
    version = form_layout.version_named(number)
    if version is None:
        errors[str(index)] = {
            "version": [
                f"There is no version {number} of form {form!r}; "
                "GET /api/v1/forms/ lists the forms and their "
                "versions."
            ]
        }
    return version


def _save(user: User, items: list[BulkItem]) -> list[SaveOutcome]:
    try:
        return do_save_submissions_bulk(user, items, create_only=True)
    except BulkSaveRefused as refused:
        errors = {str(index): fields for index, fields in refused.errors.items()}
        for positions, code in (
            (refused.locked, status.HTTP_423_LOCKED),
            (refused.conflicts, status.HTTP_409_CONFLICT),
        ):
            if positions:
                raise BatchRefused(
                    {str(index): errors[str(index)] for index in positions}, code
                ) from None
        raise BatchRefused(errors, status.HTTP_400_BAD_REQUEST) from None
