"""Who may call what. Object scope (which sites) is the access layer's job, not these."""

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from registry.people.models import Role


class ReadsOrEntersData(BasePermission):
    """Anyone signed in reads (within their scope); only coordinators and admins write."""

    message = ("Only site coordinators and administrators enter data; your role may read "
               "through the API but not write.")
    limits_reads = False  # for the OpenAPI schema: reads never answer 403

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return True
        return request.user.role in (Role.COORDINATOR, Role.ADMIN)


class WorksOnData(BasePermission):
    """The curation workflow (data queries) is for coordinators, curators and admins."""

    message = ("Data queries belong to the curation workflow; researchers receive data "
               "through exports.")

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.user.role != Role.RESEARCHER
