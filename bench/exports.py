"""The researchers' flat CSV export against PostgreSQL's own COPY, on the same data in one run.

Target (API issue): the REST flat CSV export at no less than half the rows per second of
`COPY (...) TO STDOUT` of the same columns, with peak memory under 300 MB.

The limit is a query a DBA would write by hand for the same CSV: one SELECT per form over its
submissions, each giving every column of the export (the form's own fields as `data ->> name`,
a renamed field under either of its names, a checkbox option as `data -> name ? code`, the
form's status code, NULL for the other forms' columns), all sorted by record, form and instance,
and streamed by COPY. For reference the suite also reports COPY of the bare documents
(`data::text`, five columns), which is the floor of what any export of these rows can cost; it
has no target.

The export is requested as a researcher through the REST API with Django's test client (the
whole stack but the network: authentication, de-identification, the audit event, streaming)
and its body read to the end. Peak memory is this process's maximum resident set after the
exports and is measured in a process of its own (bench/run.py runs each suite so).
"""

from __future__ import annotations

import resource
from collections.abc import Callable

from .database import Scale, prepare
from .figures import Figure, alternating_median_seconds

ROUNDS = 7
PEAK_RSS_LIMIT_MB = 300.0


def _rates(actions: dict[str, Callable[[], int]]) -> dict[str, float]:
    """Rows per second of each action (each returns its row count), medians of ROUNDS taken
    alternately."""
    rows: dict[str, int] = {}

    def counting(name: str, action: Callable[[], int]) -> Callable[[], None]:
        def run() -> None:
            rows[name] = action()

        return run

    # One untimed round first: the first request of a process pays for what a running server
    # has done long before (URL patterns, views and serializers built, statements prepared).
    for action in actions.values():
        action()
    seconds = alternating_median_seconds(
        {name: counting(name, action) for name, action in actions.items()}, rounds=ROUNDS
    )
    return {name: rows[name] / seconds[name] for name in actions}


def same_columns_query() -> str:
    """The hand-written SELECT of the export's columns (see the module's docstring)."""
    from registry.exchange.layout import current_layout

    layout = current_layout()
    forms = list(layout.forms)
    per_form: dict[str, list[str]] = {}
    for form in forms:
        columns = []
        for layout_field in form.fields:
            names = sorted(set(layout_field.names.values()))
            if layout_field.is_checkbox:
                columns += [
                    f"CASE WHEN s.data -> '{layout_field.name}' ? '{code}' THEN '1' ELSE '0' END"
                    for code in layout_field.codes
                ]
            elif len(names) == 1:
                columns.append(f"s.data ->> '{names[0]}'")
            else:
                columns.append("COALESCE(" + ", ".join(f"s.data ->> '{n}'" for n in names) + ")")
        columns.append(
            "CASE s.status WHEN 'incomplete' THEN '0' WHEN 'unverified' THEN '1' ELSE '2' END"
        )
        per_form[form.name] = columns
    selects = []
    for position, form in enumerate(forms):
        cells = [
            "p.pseudonym",
            f"'{form.name}'",
            "s.instance::text",
            "p.sex",
            "p.year_of_birth::text",
        ]
        for other in forms:
            cells += per_form[other.name] if other is form else ["NULL"] * len(per_form[other.name])
        named = ", ".join(f"{cell} AS c{index}" for index, cell in enumerate(cells))
        selects.append(
            f"SELECT p.id AS k1, {position} AS k2, s.instance AS k3, {named} "
            f"FROM submissions_submission s JOIN patients_patient p ON p.id = s.patient_id "
            f"JOIN crfs_formdefinition f ON f.id = s.form_id WHERE f.name = '{form.name}'"
        )
    columns = ", ".join(f"c{index}" for index in range(len(cells)))
    return f"SELECT {columns} FROM ({' UNION ALL '.join(selects)}) r ORDER BY k1, k2, k3"


def measure(scale: Scale) -> list[Figure]:
    submissions = prepare(scale)
    from django.db import connection
    from django.test import Client

    from registry.exchange.pgcopy import SORT_MEMORY
    from registry.people.models import Role, User
    from registry.people.services import do_create_user

    researcher = User.objects.filter(username="bench_researcher").first() or do_create_user(
        None, "bench_researcher", Role.RESEARCHER
    )
    client = Client(SERVER_NAME="localhost")
    client.force_login(researcher)

    def export() -> int:
        response = client.get("/api/v1/exports/flat-csv/")
        assert response.status_code == 200, response.status_code
        assert response.streaming
        lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
        return lines - 1

    def copy(sql: str) -> Callable[[], int]:
        def run() -> int:
            rows = 0
            with connection.cursor() as cursor:
                raw = cursor.connection.cursor()
                # The export's own settings, so that only the query differs.
                raw.execute("SET jit = off")
                raw.execute(f"SET work_mem = '{SORT_MEMORY}'")
                with raw.copy(f"COPY ({sql}) TO STDOUT WITH CSV") as stream:
                    for _ in stream:
                        rows += 1
            return rows

        return run

    documents = (
        "SELECT p.pseudonym, f.name, s.instance, s.status, s.data::text "
        "FROM submissions_submission s JOIN patients_patient p ON p.id = s.patient_id "
        "JOIN crfs_formdefinition f ON f.id = s.form_id ORDER BY p.id, s.id"
    )
    rates = _rates(
        {"export": export, "same": copy(same_columns_query()), "documents": copy(documents)}
    )
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    label = f"{scale.label}: {submissions:,} submissions"
    ratio = rates["export"] / rates["same"]
    bare = rates["export"] / rates["documents"]
    return [
        Figure(
            "flat CSV export (REST, researcher) vs COPY of the same columns",
            "rows/s",
            round(rates["export"]),
            round(rates["same"]),
            round(ratio, 3),
            ">= 0.5 x COPY",
            ratio >= 0.5,
            label,
        ),
        Figure(
            "flat CSV export vs COPY of the bare documents (reference)",
            "rows/s",
            round(rates["export"]),
            round(rates["documents"]),
            round(bare, 3),
            "reported",
            True,
            label,
        ),
        Figure(
            "peak RSS of the exporting process",
            "MB",
            round(peak_rss_mb),
            PEAK_RSS_LIMIT_MB,
            round(peak_rss_mb / PEAK_RSS_LIMIT_MB, 3),
            "< 300 MB",
            peak_rss_mb < PEAK_RSS_LIMIT_MB,
            label,
        ),
    ]
