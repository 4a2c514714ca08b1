"""Job runs: every background run is recorded, so a crashed run is visible and can be re-run.

A caller asks for a run with `do_request_job`, which records it and queues its Celery task once
the transaction commits. The task calls `execute_run`, which marks the run running, hands it to
the work function, and records success (with counts) or failure (with the error).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from django.db import transaction
from django.utils import timezone

from registry.audit.services import record_event
from registry.people.models import User

from .models import JobRun, JobStatus


class QueueableTask(Protocol):
    def delay(self, *args: Any, **kwargs: Any) -> Any: ...


def do_request_job(
    actor: User | None, kind: str, task: QueueableTask, parameters: Mapping[str, Any] | None = None
) -> JobRun:
    """Record a run of `kind` and queue `task(run_id)` after commit (or run it now if eager)."""
    with transaction.atomic():
        run = JobRun.objects.create(kind=kind, parameters=dict(parameters or {}),
                                    requested_by=actor)
        record_event(actor, "job.request", run, context={"kind": kind,
                                                         "parameters": run.parameters})
        transaction.on_commit(lambda: _queue(run, task))
    return run


def _queue(run: JobRun, task: QueueableTask) -> None:
    result = task.delay(run.pk)
    task_id = getattr(result, "id", "") or ""
    JobRun.objects.filter(pk=run.pk, task_id="").update(task_id=task_id)


def report_progress(run: JobRun, done: int, total: int) -> None:
    """Tell people watching how far the run is; cheap enough to call every few thousand rows."""
    run.progress_done, run.progress_total = done, total
    JobRun.objects.filter(pk=run.pk).update(progress_done=done, progress_total=total)


def execute_run(run_id: int, work: Callable[[JobRun], Mapping[str, Any]]) -> JobRun | None:
    """Run `work` for a recorded run. Idempotent: a run that already succeeded is not redone.

    `work` returns the run's counts. An exception marks the run failed, with the error kept,
    and is raised again so Celery can retry it.
    """
    run = JobRun.objects.filter(pk=run_id).first()
    if run is None or run.status == JobStatus.SUCCEEDED:
        return run
    run.status, run.started_at, run.error = JobStatus.RUNNING, timezone.now(), ""
    run.save(update_fields=["status", "started_at", "error"])
    try:
        counts = dict(work(run))
    except Exception:
        run.status, run.finished_at = JobStatus.FAILED, timezone.now()
        run.error = traceback.format_exc(limit=20)
        run.save(update_fields=["status", "finished_at", "error"])
        raise
    run.status, run.finished_at, run.counts = JobStatus.SUCCEEDED, timezone.now(), counts
    run.save(update_fields=["status", "finished_at", "counts", "result_file"])
    return run
