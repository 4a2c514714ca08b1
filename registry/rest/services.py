"""The API's own writes: the audit trail of record-level reads."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import models

from registry.audit.services import record_event
from registry.people.models import Site, User


def do_record_api_read(
    actor: User,
    objects: Sequence[models.Model],
    *,
    endpoint: str,
    site: Site | None = None,
    detail: bool = False,
) -> None:
    """Audit that `actor` read these records through the API (one event per request)."""
    if detail and len(objects) == 1:
        record_event(actor, "api.read", objects[0], site=site, context={"endpoint": endpoint})
        return
    record_event(
        actor,
        "api.read",
        None,
        context={
            "endpoint": endpoint,
            "object_type": objects[0]._meta.label_lower if objects else "",
            "count": len(objects),
            "ids": [str(obj.pk) for obj in objects],
        },
    )
