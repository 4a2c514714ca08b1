"""Reads of record-level data on pages, in the audit trail (DESIGN: privacy rule 4).

One event per page view, never one per row: a record's page names the record, a list page
names the records it showed, with its filters and page. A refused read (a record outside one's
scope answers 404) writes nothing, as in the REST API. Docs: docs/audit.md; the read actions
are READ_ACTIONS in actions.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.db import models
from django.http import HttpRequest, HttpResponse

from .actions import Action
from .models import AuditEvent
from .services import record_event

if TYPE_CHECKING:
    # Types only: people records its own events through this app, so audit sits below it.
    from registry.people.models import Site, User

# Free text typed into a search box may be anything, a hospital number included, and the trail
# is kept forever: it records that a search was made, and the records it showed.
_SEARCH_PARAMETERS = frozenset({"q"})
_MAX_PARAMETERS = 20
_MAX_VALUE = 64


def page_filters(params: Mapping[str, str]) -> dict[str, Any]:
    """A list page's query parameters (filters, ordering, page) as the trail keeps them."""
    kept: dict[str, Any] = {}
    for name, value in list(params.items())[:_MAX_PARAMETERS]:
        if name in _SEARCH_PARAMETERS:
            if value.strip():
                kept["searched"] = True
        else:
            kept[name[:_MAX_VALUE]] = value[:_MAX_VALUE]
    return kept


def do_record_view(
    actor: User, action: Action | str, obj: models.Model, *, page: str, site: Site | None = None
) -> AuditEvent:
    """Audit that `actor` read one record on the page at `page` (a path)."""
    return record_event(actor, action, obj, site=site, context={"page": page})


def do_record_list_view(
    actor: User,
    action: Action | str,
    shown: Sequence[models.Model],
    *,
    page: str,
    params: Mapping[str, str],
    site: Site | None = None,
) -> AuditEvent:
    """Audit that `actor` saw a page listing `shown`, chosen by `params` (the query string)."""
    return record_event(
        actor,
        action,
        None,
        site=site,
        context={
            "page": page,
            "filters": page_filters(params),
            "object_type": shown[0]._meta.label_lower if shown else "",
            "count": len(shown),
            "ids": [str(obj.pk) for obj in shown],
        },
    )


class AuditedReads:
    """For a ModelAdmin of record-level data: its list and its change page write a read event.

    `view_action` names the read. A change view of its own (a review page) records its read
    itself; this one covers Django's own read-only change form.
    """

    view_action: Action | str = ""

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response: HttpResponse = super().changelist_view(  # type: ignore[misc]
            request, extra_context
        )
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None:
            # The page's rows, already fetched for the template: listing them costs no query.
            do_record_list_view(
                request.user,
                self.view_action,
                list(changelist.result_list),
                page=request.path,
                params=request.GET,
            )
        return response

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response: HttpResponse = super().change_view(  # type: ignore[misc]
            request, object_id, form_url, extra_context
        )
        shown = (getattr(response, "context_data", None) or {}).get("original")
        if shown is not None and response.status_code == 200:
            do_record_view(
                request.user,
                self.view_action,
                shown,
                page=request.path,
                site=getattr(shown, "site", None),
            )
        return response
