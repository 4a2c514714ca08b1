"""Aggregate statistics of any registry's forms, computed in the database: the building blocks
(count tables, numeric summaries) and the tables every form gets (patients and forms by site,
completeness, the answers to each field). The registry's clinical questions, which read named
fields, are in clinical.py; services.py puts both in a snapshot.

Every figure is an SQL aggregation over the JSON column (registry/statistics/jsonsql.py), with
the versions of a form lined up by registry.formengine.harmonise, so v1 and v2 answers to the
same question are counted together. Python only does what SQLite cannot: the standard deviation
and the percentiles of one column of numbers on SQLite. Whole submissions are never loaded.

The results are plain JSON (see docs/statistics.md): count tables, which
registry/statistics/suppression.py can suppress for researchers, and numeric summaries.
"""

from __future__ import annotations

import math
import statistics as pystats
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.models import Count, Max
from django.utils import timezone

from registry.formengine.harmonise import HarmonisedField
from registry.patients.models import Patient
from registry.submissions.models import Status, Submission

from .catalogue import FormInfo, is_categorical, is_numeric
from .jsonsql import JsonSql

SUBMISSIONS = "submissions_submission"
OTHER_VALUE = "__other__"


# --------------------------------------------------------------------------------------------
# Building blocks: count tables and numeric summaries


def count_table(
    key: str,
    title: str,
    *,
    unit: str,
    rows: Sequence[tuple[str, str]],
    columns: Sequence[tuple[str, str]],
    counts: Mapping[tuple[str, str], int],
    row_title: str = "",
    column_title: str = "",
    additive: bool = True,
    total: int | None = None,
    note: str = "",
) -> dict[str, Any]:
    """A table of counts as stored in a snapshot.

    Additive tables (each unit in one cell of a row) carry row totals (when there is more
    than one column), column totals and a grand total, all sums of the cells. Tables whose
    units may fall in several cells (checkbox options) carry only `total`, given by the caller
    (the number of units answering).
    """
    cells = [[int(counts.get((r, c), 0)) for c, _ in columns] for r, _ in rows]
    table: dict[str, Any] = {
        "key": key,
        "title": title,
        "unit": unit,
        "row_title": row_title,
        "column_title": column_title,
        "note": note,
        "additive": additive,
        "rows": [{"code": code, "label": label} for code, label in rows],
        "columns": [{"code": code, "label": label} for code, label in columns],
        "cells": cells,
        "row_totals": None,
        "column_totals": None,
        "total": total,
    }
    if additive:
        if len(columns) > 1:
            table["row_totals"] = [sum(row) for row in cells]
        table["column_totals"] = [sum(row[i] for row in cells) for i in range(len(columns))]
        table["total"] = sum(sum(row) for row in cells)
    return table


def _percentile(ordered: Sequence[float], fraction: float) -> float:
    """Linear interpolation between closest ranks: what PostgreSQL's percentile_cont does."""
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    if low == high:
        return float(ordered[low])
    return float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


def numeric_summary_of(values: Sequence[float], missing_codes: int = 0) -> dict[str, Any]:
    """n, mean, SD, median, quartiles, min and max of a list of numbers, in Python."""
    ordered = sorted(float(v) for v in values)
    n = len(ordered)
    if not n:
        return _summary(0, None, None, None, None, None, None, None, missing_codes)
    return _summary(
        n,
        pystats.fmean(ordered),
        pystats.stdev(ordered) if n > 1 else None,
        _percentile(ordered, 0.5),
        _percentile(ordered, 0.25),
        _percentile(ordered, 0.75),
        ordered[0],
        ordered[-1],
        missing_codes,
    )


def _summary(
    n: int,
    mean: float | None,
    sd: float | None,
    median: float | None,
    q1: float | None,
    q3: float | None,
    low: float | None,
    high: float | None,
    missing_codes: int,
) -> dict[str, Any]:
    def number(value: Any) -> float | None:
        return None if value is None else float(value)

    return {
        "n": int(n),
        "mean": number(mean),
        "sd": number(sd),
        "median": number(median),
        "q1": number(q1),
        "q3": number(q3),
        "min": number(low),
        "max": number(high),
        "missing_codes": int(missing_codes),
    }


def fetch(sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return list(cursor.fetchall())


def summarise_column(
    sql: JsonSql, source: str, params: Sequence[Any], missing_codes: int = 0
) -> dict[str, Any]:
    """The numeric summary of column `v` of the subquery `source`, NULLs left out."""
    if sql.postgres:
        row = fetch(
            "SELECT COUNT(v), AVG(v), STDDEV_SAMP(v), "
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY v), "
            "percentile_cont(0.25) WITHIN GROUP (ORDER BY v), "
            "percentile_cont(0.75) WITHIN GROUP (ORDER BY v), MIN(v), MAX(v) "
            f"FROM ({source}) AS t WHERE v IS NOT NULL",
            params,
        )[0]
        return _summary(*row, missing_codes=missing_codes)
    # SQLite has no standard deviation or percentiles: one sorted column of numbers, fetched.
    values = [
        row[0]
        for row in fetch(f"SELECT v FROM ({source}) AS t WHERE v IS NOT NULL ORDER BY v", params)
    ]
    return numeric_summary_of(values, missing_codes)


# --------------------------------------------------------------------------------------------
# The tables of every registry: patients, forms, completeness, each field's answers


def data_cut(catalogue: Mapping[str, FormInfo], sites: Sequence[tuple[int, str]]) -> dict[str, Any]:
    by_version = dict(
        ((form, number), n)
        for form, number, n in Submission.objects.values_list("form__name", "form_version__number")
        .annotate(n=Count("id"))
        .order_by()
    )
    last_change = Submission.objects.aggregate(at=Max("updated_at"))["at"]
    return {
        "at": timezone.now().isoformat(),
        "sites": len(sites),
        "patients": Patient.objects.count(),
        "submissions": sum(by_version.values()),
        "last_change": last_change.isoformat() if last_change else None,
        "forms": [
            {
                "form": info.name,
                "title": info.form.title,
                "versions": [
                    {
                        "version": version.number,
                        "content_hash": version.content_hash,
                        "submissions": by_version.get((info.name, version.number), 0),
                    }
                    for version in info.versions
                ],
            }
            for info in catalogue.values()
        ],
    }


def patients_by_site(sites: Sequence[tuple[int, str]]) -> dict[str, Any]:
    counts = dict(Patient.objects.values_list("site_id").annotate(n=Count("id")).order_by())
    return count_table(
        "patients_by_site",
        "Patients by site",
        unit="patients",
        rows=[(code, code) for _, code in sites],
        columns=[("n", "Patients")],
        counts={(code, "n"): counts.get(pk, 0) for pk, code in sites},
        row_title="Site",
    )


def submissions_by_site(
    catalogue: Mapping[str, FormInfo], sites: Sequence[tuple[int, str]]
) -> list[dict[str, Any]]:
    codes = dict(sites)
    counts: dict[int, dict[tuple[str, str], int]] = {}
    for site_id, form_id, status, n in (
        Submission.objects.values_list("patient__site_id", "form_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts.setdefault(form_id, {})[(codes[site_id], status)] = n
    return [
        count_table(
            f"submissions_{info.name}",
            f"{info.form.title}: forms by site and status",
            unit="forms",
            rows=[(code, code) for _, code in sites],
            columns=[(status.value, status.label) for status in Status],
            counts=counts.get(info.form.pk, {}),
            row_title="Site",
            column_title="Status",
        )
        for info in catalogue.values()
    ]


def completeness(
    sql: JsonSql, catalogue: Mapping[str, FormInfo], sites: Sequence[tuple[int, str]]
) -> dict[str, Any]:
    """Share of required fields filled, among those shown, per form and site.

    A required field counts as expected in a submission when its show_if holds for that
    submission's stored answers (translated to SQL); fields whose show_if cannot be translated
    are left out and listed.
    """
    codes = dict(sites)
    cells: dict[tuple[str, str], dict[str, int]] = {}
    left_out: list[str] = []
    for info in catalogue.values():
        for version in info.versions:
            schema = info.schemas[version.pk]
            parts = ["COUNT(*)"]
            for f in schema.fields:
                if not f.required or not f.stores_data or f.type == "calc":
                    continue
                shown = "(1 = 1)"
                if f.show_if_logic is not None:
                    translated = sql.condition(f.show_if_logic, "s")
                    if translated is None:
                        left_out.append(f"{info.name} v{version.number} {f.name}")
                        continue
                    shown = translated
                filled = sql.present("s", f.name)
                parts.append(f"SUM(CASE WHEN {shown} THEN 1 ELSE 0 END)")
                parts.append(f"SUM(CASE WHEN {shown} AND {filled} THEN 1 ELSE 0 END)")
            rows = fetch(
                f"SELECT p.site_id, {', '.join(parts)} FROM {SUBMISSIONS} s "
                "JOIN patients_patient p ON p.id = s.patient_id "
                "WHERE s.form_version_id = %s GROUP BY p.site_id",
                [version.pk],
            )
            for site_id, n, *pairs in rows:
                cell = cells.setdefault(
                    (codes[site_id], info.name), {"submissions": 0, "expected": 0, "filled": 0}
                )
                cell["submissions"] += int(n)
                cell["expected"] += sum(int(v or 0) for v in pairs[0::2])
                cell["filled"] += sum(int(v or 0) for v in pairs[1::2])
    forms = list(catalogue.values())
    return {
        "title": "Completeness: required fields filled, among those shown",
        "rows": [{"code": code, "label": code} for _, code in sites],
        "columns": [{"code": info.name, "label": info.form.title} for info in forms],
        "cells": [
            [
                cells.get((code, info.name), {"submissions": 0, "expected": 0, "filled": 0})
                for info in forms
            ]
            for _, code in sites
        ],
        "left_out": left_out,
    }


def choice_rows(info: FormInfo, harmonised: HarmonisedField) -> list[tuple[str, str]]:
    """Choice codes and labels across versions, the latest version's wording first."""
    labels: dict[str, str] = {}
    for version in reversed(info.versions):
        name = harmonised.names.get(version.number)
        if name is None:
            continue
        for code, label in info.schemas[version.pk].field(name).all_choices():
            labels.setdefault(code, label)
    latest = [code for code, _ in harmonised.field.all_choices()]
    order = latest + [code for code in labels if code not in latest]
    return [(code, labels[code]) for code in order]


def missing_code_rows(info: FormInfo) -> list[tuple[str, str]]:
    found: dict[str, str] = {}
    for schema in info.schemas.values():
        for missing in schema.missing_codes:
            found.setdefault(missing.code, missing.label)
    return list(found.items())


def field_statistics(sql: JsonSql, info: FormInfo) -> dict[str, Any]:
    """Every categorical and numeric field of a form, in three scans of its submissions (one
    for the answers, one for the options ticked in checkbox lists, one for the numeric
    summaries) rather than a scan per field: at a million submissions the scans, not the
    aggregates, are what costs."""
    missing = missing_code_rows(info)
    summarised = [h for h in info.data_fields() if is_categorical(h.field) or is_numeric(h.field)]
    names = [info.version_names(h) for h in summarised]
    answers = _answer_counts(sql, info, summarised, names, [code for code, _ in missing])
    ticked = _ticked_counts(sql, info, summarised, names)
    summaries = _numeric_summaries(sql, info, summarised, names)
    fields = []
    for index, harmonised in enumerate(summarised):
        f = harmonised.field
        if is_categorical(f):
            fields.append(
                _distribution(
                    info, harmonised, missing, answers.get(index, {}), ticked.get(index, {})
                )
            )
        else:
            summary = summaries.get(index) or numeric_summary_of([])
            summary["missing_codes"] = sum(answers.get(index, {}).values())
            fields.append(
                {
                    "name": harmonised.name,
                    "label": f.display_name,
                    "kind": "numeric",
                    "summary": summary,
                }
            )
    return {"form": info.name, "title": info.form.title, "fields": fields}


# The answer of a checkbox field holding a list, in the counts of _answer_counts.
LISTED = "__listed__"


def _answer_counts(
    sql: JsonSql,
    info: FormInfo,
    summarised: Sequence[HarmonisedField],
    names: Sequence[Mapping[int, str | None]],
    missing_codes: Sequence[str],
) -> dict[int, dict[str, int]]:
    """Field index -> answer -> forms: the codes of categorical fields, the answers of
    checkbox fields that are not lists (missing codes) with the lists counted as LISTED, and
    the missing codes given instead of a number."""
    missing_list = ", ".join(_literal(code) for code in missing_codes)
    entries = []
    for harmonised, version_names in zip(summarised, names, strict=True):
        text = sql.by_version("s", version_names, "text")
        if harmonised.field.type == "checkbox":
            array = sql.by_version("s", version_names, "array")
            entries.append(
                (
                    f"(CASE WHEN {array} IS NULL THEN {text} END)",
                    f"(CASE WHEN {array} IS NULL THEN 0 ELSE 1 END)",
                )
            )
        elif is_categorical(harmonised.field):
            entries.append((text, "0"))
        elif missing_list:
            entries.append((f"(CASE WHEN {text} IN ({missing_list}) THEN {text} END)", "0"))
        else:
            entries.append(("NULL", "0"))
    counts: dict[int, dict[str, int]] = {}
    if not entries:
        return counts
    join, (f, code, listed) = sql.fan_out(entries, "x", ("code", "listed"))
    for index, answer, is_list, n in fetch(
        f"SELECT {f}, {code}, {listed}, COUNT(*) FROM {SUBMISSIONS} s {join} "
        f"WHERE s.form_id = %s AND ({code} IS NOT NULL OR {listed} = 1) GROUP BY 1, 2, 3",
        [info.form.pk],
    ):
        key = LISTED if is_list else answer
        field_counts = counts.setdefault(int(index), {})
        field_counts[key] = field_counts.get(key, 0) + int(n)
    return counts


def _ticked_counts(
    sql: JsonSql,
    info: FormInfo,
    summarised: Sequence[HarmonisedField],
    names: Sequence[Mapping[int, str | None]],
) -> dict[int, dict[str, int]]:
    """Field index -> option code -> forms with it ticked, for the checkbox fields."""
    checkboxes = [index for index, h in enumerate(summarised) if h.field.type == "checkbox"]
    counts: dict[int, dict[str, int]] = {}
    if not checkboxes:
        return counts
    join, (f, array) = sql.fan_out(
        [(sql.by_version("s", names[index], "array"),) for index in checkboxes], "x", ("list",)
    )
    for position, code, n in fetch(
        f"SELECT {f}, e.value, COUNT(*) FROM {SUBMISSIONS} s {join} "
        f"{sql.each_element(array, 'e')} WHERE s.form_id = %s GROUP BY 1, 2",
        [info.form.pk],
    ):
        counts.setdefault(checkboxes[int(position)], {})[code] = int(n)
    return counts


def _numeric_summaries(
    sql: JsonSql,
    info: FormInfo,
    summarised: Sequence[HarmonisedField],
    names: Sequence[Mapping[int, str | None]],
) -> dict[int, dict[str, Any]]:
    """Field index -> numeric summary, for the numeric fields (missing codes left at 0)."""
    numeric = [index for index, h in enumerate(summarised) if is_numeric(h.field)]
    if not numeric:
        return {}
    join, (f, value) = sql.fan_out(
        [(sql.by_version("s", names[index], "number"),) for index in numeric], "x", ("v",)
    )
    source = f"FROM {SUBMISSIONS} s {join} WHERE s.form_id = %s AND {value} IS NOT NULL"
    if sql.postgres:
        return {
            numeric[int(position)]: _summary(*row, missing_codes=0)
            for position, *row in fetch(
                f"SELECT {f}, COUNT({value}), AVG({value}), STDDEV_SAMP({value}), "
                f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {value}), "
                f"percentile_cont(0.25) WITHIN GROUP (ORDER BY {value}), "
                f"percentile_cont(0.75) WITHIN GROUP (ORDER BY {value}), "
                f"MIN({value}), MAX({value}) {source} GROUP BY 1",
                [info.form.pk],
            )
        }
    # SQLite has no standard deviation or percentiles: each field's numbers, fetched in order.
    values: dict[int, list[float]] = {}
    for position, number in fetch(f"SELECT {f}, {value} {source} ORDER BY 1, 2", [info.form.pk]):
        values.setdefault(numeric[int(position)], []).append(number)
    return {index: numeric_summary_of(numbers) for index, numbers in values.items()}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _distribution(
    info: FormInfo,
    harmonised: HarmonisedField,
    missing: Sequence[tuple[str, str]],
    answers: Mapping[str, int],
    ticked: Mapping[str, int],
) -> dict[str, Any]:
    f = harmonised.field
    choices = choice_rows(info, harmonised)
    known = {code for code, _ in choices}
    missing_codes = {code for code, _ in missing}
    counts: dict[str, int] = {}
    answered: int | None = None
    if f.type == "checkbox":
        for code, n in ticked.items():
            key = code if code in known else OTHER_VALUE
            counts[key] = counts.get(key, 0) + n
        answered = sum(answers.values())
        for code, n in answers.items():
            if code == LISTED:
                continue
            # A checkbox answered with a missing code holds that code instead of a list.
            key = code if code in missing_codes else OTHER_VALUE
            counts[key] = counts.get(key, 0) + n
    else:
        for code, n in answers.items():
            key = code if code in known or code in missing_codes else OTHER_VALUE
            counts[key] = counts.get(key, 0) + n
    rows = list(choices)
    rows += [(code, f"{label} ({code})") for code, label in missing if code in counts]
    if OTHER_VALUE in counts:
        rows.append((OTHER_VALUE, "A value that is not among the choices"))
    multiple = f.type == "checkbox"
    table = count_table(
        f"{info.name}.{harmonised.name}",
        f.display_name,
        unit="forms",
        rows=rows,
        columns=[("n", "Forms")],
        counts={(code, "n"): n for code, n in counts.items()},
        row_title="Answer",
        additive=not multiple,
        total=answered,
        note="Several options may be ticked on one form." if multiple else "",
    )
    return {
        "name": harmonised.name,
        "label": f.display_name,
        "kind": "categorical",
        "multiple": multiple,
        "table": table,
    }


def iter_tables(results: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    """Every count table of a snapshot's results, in the order pages show them."""
    yield results["patients_by_site"]
    yield from results["submissions"]
    for form in results["fields"]:
        for field in form["fields"]:
            if field["kind"] == "categorical":
                yield field["table"]
    yield from results["clinical"]
