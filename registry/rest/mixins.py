"""What several API views share."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from .services import do_record_api_read


class AuditedListMixin:
    """A list view whose every page of records is audited as read (DESIGN: privacy rule 4)."""

    _page: Any = None

    def paginate_queryset(self, queryset: Any) -> Any:
        self._page = super().paginate_queryset(queryset)  # type: ignore[misc]
        return self._page

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response: Response = super().list(request, *args, **kwargs)  # type: ignore[misc]
        do_record_api_read(request.user, list(self._page or []), endpoint=request.path)
        return response
