"""Statistics pages: the dashboard (charts), the same figures as tables, and a CSV download."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from registry.audit.services import record_event
from registry.csvsafe import SafeWriter
from registry.jobs.selectors import latest_run
from registry.jobs.services import can_run_jobs

from .aggregates import iter_tables
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


def _context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    pk = request.GET.get("snapshot")
    snapshot: StatsSnapshot | None = (
        snapshot_for(user, int(pk)) if pk and pk.isdigit() else latest_snapshot(user)
    )
    as_researcher = request.GET.get("view") == "researcher"
    context: dict[str, Any] = {
        "snapshot": snapshot,
        "as_researcher": as_researcher,
        "unsuppressed": sees_unsuppressed(user) and not as_researcher,
        "may_preview": sees_unsuppressed(user),
        "threshold": suppression_threshold(),
        "can_compute": can_run_jobs(user),
        "running": latest_run(user, "statistics"),
        "snapshots": visible_snapshots(user)[:20],
    }
    if snapshot is not None:
        context["results"] = results_for(user, snapshot, as_researcher=as_researcher)
        context["data_cut"] = data_cut_for(user, snapshot, as_researcher=as_researcher)
    return context


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "statistics/dashboard.html", _context(request))


@login_required
def tables(request: HttpRequest) -> HttpResponse:
    return render(request, "statistics/tables.html", _context(request))


@login_required
def download(request: HttpRequest) -> HttpResponse:
    """Every figure of the snapshot as one long CSV (one figure per line)."""
    context = _context(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    snapshot = context["snapshot"]
    record_event(
        request.user,
        "export",
        snapshot,
        context={
            "via": "web",
            "shape": "statistics-csv",
            "unsuppressed": context["unsuppressed"],
        },
    )
    stamp = snapshot.created_at.strftime("%Y%m%d-%H%M") if snapshot else "none"
    response["Content-Disposition"] = f'attachment; filename="registry-statistics-{stamp}.csv"'
    writer = SafeWriter(csv.writer(response))
    writer.writerow(
        [
            "section",
            "table",
            "title",
            "row",
            "row_label",
            "column",
            "column_label",
            "value",
            "suppressed",
        ]
    )
    results = context.get("results")
    if results is None:
        return response
    for table in iter_tables(results):
        _write_table(writer, "counts", table)
    for form in results["fields"]:
        for field in form["fields"]:
            if field["kind"] == "numeric":
                _write_summary(
                    writer, f"{form['form']}.{field['name']}", field["label"], field["summary"]
                )
    for table in results["clinical"]:
        if "summary" in table:
            _write_summary(
                writer, f"{table['key']}.summary", table["summary_title"], table["summary"]
            )
    completeness = results["completeness"]
    for row, cells in zip(completeness["rows"], completeness["cells"], strict=True):
        for column, cell in zip(completeness["columns"], cells, strict=True):
            for measure in ("submissions", "expected", "filled"):
                value = cell.get(measure)
                writer.writerow(
                    [
                        "completeness",
                        "completeness",
                        completeness["title"],
                        row["code"],
                        row["label"],
                        f"{column['code']}.{measure}",
                        column["label"],
                        "" if value is None else value,
                        "yes" if value is None else "",
                    ]
                )
    return response


def _write_table(writer: Any, section: str, table: dict[str, Any]) -> None:
    def put(row: str, row_label: str, column: str, column_label: str, value: Any) -> None:
        writer.writerow(
            [
                section,
                table["key"],
                table["title"],
                row,
                row_label,
                column,
                column_label,
                "" if value is None else value,
                "yes" if value is None else "",
            ]
        )

    for r, row in enumerate(table["rows"]):
        for c, column in enumerate(table["columns"]):
            put(row["code"], row["label"], column["code"], column["label"], table["cells"][r][c])
        if table["row_totals"] is not None:
            put(row["code"], row["label"], "total", "Total", table["row_totals"][r])
    if table["column_totals"] is not None:
        for c, column in enumerate(table["columns"]):
            put("total", "Total", column["code"], column["label"], table["column_totals"][c])
    put("total", "Total", "total", "Total", table["total"])


def _write_summary(writer: Any, key: str, title: str, summary: dict[str, Any]) -> None:
    for measure in ("n", "mean", "sd", "median", "q1", "q3", "min", "max", "missing_codes"):
        value = summary.get(measure)
        writer.writerow(
            [
                "numeric",
                key,
                title,
                "",
                "",
                measure,
                measure,
                "" if value is None else value,
                "yes" if value is None else "",
            ]
        )
