"""The data-quality run on PostgreSQL, beside its targets:

- a full run: submissions checked per second, median of ROUNDS runs; target >= 20,000/s;
- an incremental run after 100 patients changed: seconds, median of ROUNDS; target < 2 s.

The checker checks identical documents (same form version, same stored JSON) once per run.
The synthetic data repeats documents more than a real registry may (about half of the 1M set
are repeats), so the suite also reports one full run with that memo off, every document
checked: the figure to expect when no two documents are alike.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

from .database import Scale, prepare
from .figures import Figure, median_seconds

ROUNDS = 3


def measure(scale: Scale) -> list[Figure]:
    submissions = prepare(scale)
    from registry.quality.services import do_run_quality_checks

    quality_rate = submissions / median_seconds(
        lambda: do_run_quality_checks(None, full=True), repeats=ROUNDS
    )
    start = time.perf_counter()
    with _every_document_checked():
        do_run_quality_checks(None, full=True)
    unmemoised_rate = submissions / (time.perf_counter() - start)
    incremental_seconds = _incremental_quality_seconds()

    scale_label = f"{scale.label}: {submissions:,} submissions"
    return [
        Figure(
            "quality checks, full run",
            "submissions/s",
            round(quality_rate),
            20_000.0,
            round(quality_rate / 20_000, 3),
            ">= 20,000/s",
            quality_rate >= 20_000,
            scale_label,
        ),
        Figure(
            "quality checks, full run, every document checked (memo off, 1 round)",
            "submissions/s",
            round(unmemoised_rate),
            20_000.0,
            round(unmemoised_rate / 20_000, 3),
            "reported",
            True,
            scale_label,
        ),
        Figure(
            "quality checks, incremental run after 100 changed patients",
            "s",
            round(incremental_seconds, 3),
            2.0,
            round(incremental_seconds / 2.0, 3),
            "< 2 s",
            incremental_seconds < 2.0,
            scale_label,
        ),
    ]


class _Forgetful(dict[Any, Any]):
    def __setitem__(self, key: Any, value: Any) -> None:
        pass


@contextmanager
def _every_document_checked() -> Iterator[None]:
    """Quality runs whose memo of checked documents keeps nothing."""
    from registry.quality.checks import QualityChecker

    original = QualityChecker.__init__

    def forgetful_init(self: QualityChecker, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._memo = _Forgetful()

    with patch.object(QualityChecker, "__init__", forgetful_init):
        yield


CHANGED_PATIENTS = 100


def _incremental_quality_seconds() -> float:
    """Median time of an incremental quality run after 100 patients' forms were saved.

    A quality job first catches up (a full run the first time, as the nightly job would), so
    that it is the last successful run the incremental runs start from; each round then marks
    the same 100 patients, spread over the registry, as saved now and runs the checks.
    """
    from django.utils import timezone

    from registry.jobs.models import JobKind, JobStatus
    from registry.jobs.services import do_start_job
    from registry.quality.services import do_run_quality_checks
    from registry.submissions.models import Submission

    job = do_start_job(None, JobKind.QUALITY, full=False)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    ids = list(
        Submission.objects.order_by("patient_id").values_list("patient_id", flat=True).distinct()
    )
    changed = ids[:: max(1, len(ids) // CHANGED_PATIENTS)][:CHANGED_PATIENTS]
    rounds = []
    for _ in range(ROUNDS):
        Submission.objects.filter(patient_id__in=changed).update(updated_at=timezone.now())
        start = time.perf_counter()
        counts = do_run_quality_checks(None, full=False)
        rounds.append(time.perf_counter() - start)
        assert counts["mode"] == "incremental", counts
        assert counts["patients_checked"] == len(changed), counts
    return statistics.median(rounds)
