"""Who may call what. Object scope (which sites) is the access layer's job, not these."""

from typing import Any, Final

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from registry.people.models import Role

RECORDS_THROUGH_RELEASES: Final = (
    "Researchers receive record-level data through releases only, each with pseudonyms of "
    "its own (docs/exports.md): GET /api/v1/exports/<shape>/ (flat-csv, flat-json, "
    "long-csv, json, ndjson), POST /api/v1/exports/jobs/, or the REDCap API's "
    "content=record. Aggregate figures are under /api/v1/statistics/."
)


class ReadsOrEntersData(BasePermission):
    """The record-level endpoints (patients, submissions): coordinators, curators and admins
    read them within their scope; only coordinators and admins write.

    Researchers are refused outright, reads included: these answers carry the registry's own
    pseudonyms, submission ids and update times, which would link one release to another.
    """

    message = (
        "Only site coordinators and administrators enter data; your role may read "
        "through the API but not write."
    )
    # For the OpenAPI schema: reads answer 403 too, and why.
    limits_reads = True
    refusal = RECORDS_THROUGH_RELEASES

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.user.role == Role.RESEARCHER:
            self.message = RECORDS_THROUGH_RELEASES
            return False
        if request.method in SAFE_METHODS:
            return True
        return request.user.role in (Role.COORDINATOR, Role.ADMIN)


class WorksOnData(BasePermission):
    """The curation workflow (data queries) is for coordinators, curators and admins."""

    message = "Data queries belong to the curation workflow. " + RECORDS_THROUGH_RELEASES
    refusal = RECORDS_THROUGH_RELEASES

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.user.role != Role.RESEARCHER
