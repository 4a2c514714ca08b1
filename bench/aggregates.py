"""The statistics run on PostgreSQL against one hand-written SQL pass over the same data.

Figure: "statistics, full run", the seconds of `compute_statistics()` (everything a snapshot
holds: counts per site, form and status, completeness, every categorical and numeric field
harmonised across versions, the clinical tables, the data cut), inside one repeatable-read
transaction as `do_compute_statistics` runs it; storing the snapshot is left out. Target:
at most twice the limit.

Limit: the seconds of one query written by hand for the same data, in the same process and
session, measured alternately with the run (3 rounds each, medians). The query reads every
submission once, joined to its patient for the site, opens each document once with
`jsonb_each` (keeping only the keys of the categorical and numeric fields the run
summarises; a checkbox list gives one row per option ticked, through
`jsonb_array_elements_text`), and groups in one pass with GROUPING SETS:

- (form, site, status): forms per site and status;
- (form version, site, field): forms answering each field, per site (what completeness
  counts, without the show_if conditions);
- (form version, field, text answer, number): a frequency table holding every field's
  distribution and, for numeric fields, every value with its frequency, from which Python
  then reads n, mean, SD, median, quartiles, min and max (milliseconds, inside the timing).

It is a fair limit because it is the cheapest way a competent hand could get the same kind of
figures from the same rows: one scan, each document parsed once, no per-field queries and no
sort (percentiles from a frequency table rather than `percentile_cont`, which would force a
sort of every value). It is lighter than the run, which must also evaluate each required
field's show_if per submission, line versions up, and answer the clinical questions per
patient (joins of per-patient aggregates across forms). Both run with the session settings
the statistics run uses (JIT off, see registry/statistics/services.py), so that the figure
compares the SQL, not the JIT compiler.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from .database import Scale, prepare
from .figures import Figure, alternating_median_seconds

ROUNDS = 3

SINGLE_PASS = """
SELECT GROUPING(s.form_id, p.site_id, s.status, s.form_version_id, kv.key, kv.code, kv.num),
       s.form_id, p.site_id, s.status, s.form_version_id, kv.key, kv.code, kv.num, COUNT(*)
FROM submissions_submission s
JOIN patients_patient p ON p.id = s.patient_id
CROSS JOIN LATERAL (
    SELECT NULL::text AS key, NULL::text AS code, NULL::float8 AS num
    UNION ALL
    SELECT e.key,
           CASE jsonb_typeof(e.value) WHEN 'array' THEN x.value WHEN 'number' THEN NULL
                ELSE e.value #>> '{}' END,
           CASE WHEN jsonb_typeof(e.value) = 'number' THEN (e.value)::float8 END
    FROM jsonb_each(s.data) AS e
    LEFT JOIN LATERAL jsonb_array_elements_text(
        CASE WHEN jsonb_typeof(e.value) = 'array' THEN e.value END) AS x(value) ON TRUE
    WHERE e.key = ANY(%(keys)s)
) AS kv
GROUP BY GROUPING SETS ((s.form_id, p.site_id, s.status),
                        (s.form_version_id, p.site_id, kv.key),
                        (s.form_version_id, kv.key, kv.code, kv.num))
"""


def _percentile(frequencies: list[tuple[float, int]], total: int, fraction: float) -> float:
    """percentile_cont over values given as (value, count), in value order."""
    position = (total - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    found: dict[int, float] = {}
    seen = 0
    for value, n in frequencies:
        for rank in (low, high):
            if rank not in found and rank < seen + n:
                found[rank] = value
        seen += n
        if high in found:
            break
    return found[low] + (found[high] - found[low]) * (position - low)


def summaries_of(rows: list[tuple[Any, ...]]) -> dict[tuple[int, str], dict[str, float]]:
    """(form version, field) -> n, mean, SD, median, quartiles, min, max, from the frequency
    rows of the single pass."""
    numbers: dict[tuple[int, str], list[tuple[float, int]]] = defaultdict(list)
    for _, _, _, _, version, key, _, number, n in rows:
        if number is not None:
            numbers[(version, key)].append((number, n))
    result = {}
    for field, frequencies in numbers.items():
        frequencies.sort()
        total = sum(n for _, n in frequencies)
        mean = sum(v * n for v, n in frequencies) / total
        squares = sum((v - mean) ** 2 * n for v, n in frequencies)
        result[field] = {
            "n": total,
            "mean": mean,
            "sd": math.sqrt(squares / (total - 1)) if total > 1 else math.nan,
            "median": _percentile(frequencies, total, 0.5),
            "q1": _percentile(frequencies, total, 0.25),
            "q3": _percentile(frequencies, total, 0.75),
            "min": frequencies[0][0],
            "max": frequencies[-1][0],
        }
    return result


def measure(scale: Scale) -> list[Figure]:
    submissions = prepare(scale)
    from django.db import connection

    from registry.statistics.catalogue import form_catalogue, is_categorical, is_numeric
    from registry.statistics.services import compute_statistics, statistics_transaction

    keys = sorted(
        {
            name
            for info in form_catalogue().values()
            for harmonised in info.data_fields()
            if is_categorical(harmonised.field) or is_numeric(harmonised.field)
            for name in harmonised.names.values()
        }
    )

    def full_run() -> None:
        with statistics_transaction():
            compute_statistics()

    def single_pass() -> None:
        with statistics_transaction(), connection.cursor() as cursor:
            cursor.execute(SINGLE_PASS, {"keys": keys})
            summaries_of(cursor.fetchall())

    medians = alternating_median_seconds({"run": full_run, "pass": single_pass}, rounds=ROUNDS)
    run_seconds, pass_seconds = medians["run"], medians["pass"]
    ratio = run_seconds / pass_seconds
    return [
        Figure(
            "statistics, full run",
            "s",
            round(run_seconds, 3),
            round(pass_seconds, 3),
            round(ratio, 3),
            "<= 2 x single SQL pass",
            ratio <= 2,
            f"{scale.label}: {submissions:,} submissions",
        ),
    ]
