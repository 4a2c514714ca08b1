"""The audit trail as CSV, for inspections. Streams, so a long trail costs no memory."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

from registry.csvsafe import safe_row

from .models import AuditEvent

COLUMNS = [
    "time",
    "user",
    "action",
    "object_type",
    "object_id",
    "object",
    "site",
    "changes",
    "context",
    "request_id",
]


class _Echo:
    def write(self, value: str) -> str:
        return value


def audit_rows(events: Iterable[AuditEvent]) -> Iterator[list[str]]:
    yield COLUMNS
    for event in events:
        yield [
            event.at.isoformat(),
            event.actor_username,
            event.action,
            event.object_type,
            event.object_id,
            event.object_label,
            event.site.code if event.site else "",
            json.dumps(event.changes, ensure_ascii=False, sort_keys=True),
            json.dumps(event.context, ensure_ascii=False, sort_keys=True),
            event.request_id,
        ]


def audit_csv_response(events: Iterable[AuditEvent], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(safe_row(row)) for row in audit_rows(events)), content_type="text/csv"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
