"""Job runs: every background run is recorded, so a crashed run is visible and can be re-run.

A caller asks for a run with `do_request_job` (or `do_start_job`, which knows the registry's
kinds of job and who may start them), which records it and queues its Celery task once the
transaction commits (`JobQueueUnavailable` if Redis cannot be reached). The task calls
`execute_run`, which claims the run, hands it to the work function, and records success (with
counts) or failure (with the error); while the work runs, a thread renews the run's heartbeat.
A run whose worker died stops its heartbeat, and a run whose message was lost stays queued:
`do_fail_stale_runs` marks both failed, and `do_rerun_job` starts a new run of the same kind and
parameters.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Protocol

from celery import current_app
from celery.exceptions import Retry
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connections, transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from registry.audit.services import record_event
from registry.people.access import can_curate
from registry.people.models import User
from registry.people.scoping import scoped_to, unscoped

from .models import JobKind, JobRun, JobStatus

logger = logging.getLogger(__name__)

QUEUE_UNREACHABLE = (
    "The job queue (Redis) could not be reached, so the run was not started. Try again in a "
    "few minutes; if it keeps failing, tell your administrator."
)


class JobQueueUnavailable(Exception):
    """The broker could not be reached: the run is recorded failed, with the reason."""

    def __init__(self, run: JobRun) -> None:
        super().__init__(QUEUE_UNREACHABLE)
        self.run = run


class QueueableTask(Protocol):
    def delay(self, *args: Any, **kwargs: Any) -> Any: ...


def do_request_job(
    actor: User | None,
    kind: str,
    task: QueueableTask,
    parameters: Mapping[str, Any] | None = None,
    *,
    rerun_of: JobRun | None = None,
) -> JobRun:
    """Record a run of `kind` and queue `task(run_id)` after commit (or run it now if eager).

    Raises JobQueueUnavailable, once the run is recorded failed, when Redis cannot be reached
    (from the commit of the outermost transaction, which is here unless the caller holds one).
    """
    with transaction.atomic():
        run = JobRun.objects.create(
            kind=kind, parameters=dict(parameters or {}), requested_by=actor, rerun_of=rerun_of
        )
        context: dict[str, Any] = {"kind": kind, "parameters": run.parameters}
        if rerun_of is not None:
            context["rerun_of"] = rerun_of.pk
        record_event(actor, "job.request", run, context=context)
        transaction.on_commit(lambda: _queue(run, task))
    return run


def _send(task: QueueableTask, run_id: int) -> Any:
    try:
        return task.delay(run_id)
    except Retry as retry:
        # Only without a broker does a retry reach the caller: run it at once, in process, as
        # many times as the task allows (the last failure is raised).
        while True:
            try:
                return retry.sig.apply()
            except Retry as again:
                retry = again


def _queue(run: JobRun, task: QueueableTask) -> None:
    try:
        result = _send(task, run.pk)
    except Exception as error:
        if current_app.conf.task_always_eager:
            # The run ran in-process and recorded its own failure; the caller reads the record.
            logger.warning("job run %s failed: %s", run.pk, error)
            return
        unreachable = isinstance(error, (KombuOperationalError, OSError))
        reason = QUEUE_UNREACHABLE if unreachable else "The job could not be queued."
        run.status, run.finished_at = JobStatus.FAILED, timezone.now()
        run.error = f"{reason}\n\n{type(error).__name__}: {error}"
        JobRun.objects.filter(pk=run.pk, status=JobStatus.QUEUED).update(
            status=run.status, finished_at=run.finished_at, error=run.error
        )
        logger.error("could not queue job run %s: %s", run.pk, error)
        if unreachable:
            raise JobQueueUnavailable(run) from error
        return
    task_id = getattr(result, "id", "") or ""
    JobRun.objects.filter(pk=run.pk, task_id="").update(task_id=task_id)


def report_progress(run: JobRun, done: int, total: int) -> None:
    """Tell people watching how far the run is; costs nothing, so call it as often as you like.

    The figures are kept on `run`: the run's heartbeat writes them, from its own thread and
    database connection, never on the work's connection (which may be streaming a COPY).
    """
    run.progress_done, run.progress_total = done, total


def _stale_before() -> datetime:
    return timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)


def _beat(run: JobRun, stop: threading.Event) -> None:
    try:
        while not stop.wait(settings.JOB_HEARTBEAT_SECONDS):
            try:
                JobRun.objects.filter(pk=run.pk, status=JobStatus.RUNNING).update(
                    heartbeat_at=timezone.now(),
                    progress_done=run.progress_done,
                    progress_total=run.progress_total,
                )
            except DatabaseError as error:
                # The next beat tries again on a new connection; the work goes on meanwhile.
                logger.warning("job run %s: heartbeat not written: %s", run.pk, error)
                connections.close_all()
    finally:
        connections.close_all()


@contextmanager
def heartbeat(run: JobRun) -> Iterator[None]:
    """Renew the run's heartbeat every JOB_HEARTBEAT_SECONDS while the block runs.

    A thread does it, on a database connection of its own (Django's connections belong to
    their thread), so a live run keeps its heartbeat whatever its work is doing, and a dead
    worker's run is noticed within JOB_STALE_AFTER_SECONDS.
    """
    stop = threading.Event()
    thread = threading.Thread(
        target=_beat, args=(run, stop), daemon=True, name=f"job-run-{run.pk}-heartbeat"
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def scope_of(run: JobRun) -> Any:
    """A run reads what the person who asked for it may read; a scheduled run, every site."""
    if run.requested_by_id is None:
        return unscoped(f"scheduled {run.kind} run")
    return scoped_to(run.requested_by)


def execute_run(run_id: int, work: Callable[[JobRun], Mapping[str, Any]]) -> JobRun | None:
    """Run `work` for a recorded run. Idempotent: a run that already succeeded is not redone,
    and a run another worker is busy with (running, heartbeat fresh) is left to it.

    `work` returns the run's counts. An exception marks the run failed, with the error kept,
    and is raised again so Celery can retry it.
    """
    now = timezone.now()
    claimable = Q(status__in=[JobStatus.QUEUED, JobStatus.FAILED]) | Q(
        status=JobStatus.RUNNING, heartbeat_at__lt=_stale_before()
    )
    claimed = JobRun.objects.filter(claimable, pk=run_id).update(
        status=JobStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
        finished_at=None,
        error="",
    )
    run = JobRun.objects.filter(pk=run_id).first()
    if run is None or not claimed:
        return run
    try:
        with heartbeat(run), scope_of(run):
            counts = dict(work(run))
    except Exception:
        run.status, run.finished_at = JobStatus.FAILED, timezone.now()
        run.error = traceback.format_exc(limit=20)
        _record_failure(run)
        raise
    run.status, run.finished_at, run.counts = JobStatus.SUCCEEDED, timezone.now(), counts
    if run.progress_total:
        run.progress_done = run.progress_total
    run.save(
        update_fields=[
            "status",
            "finished_at",
            "counts",
            "result_file",
            "progress_done",
            "progress_total",
        ]
    )
    return run


def _record_failure(run: JobRun) -> None:
    fields = ["status", "finished_at", "error", "progress_done", "progress_total"]
    try:
        run.save(update_fields=fields)
    except DatabaseError:
        # The work broke its connection (or left a transaction it cannot finish): the failure
        # is written on a connection of its own, so the run does not stay "running".
        writer = threading.Thread(target=_save_on_own_connection, args=(run, fields))
        writer.start()
        writer.join()


def _save_on_own_connection(run: JobRun, fields: list[str]) -> None:
    try:
        run.save(update_fields=fields)
    except DatabaseError:
        logger.exception("job run %s: its failure could not be recorded", run.pk)
    finally:
        connections.close_all()


# --------------------------------------------------------------------------------------------
# The registry's jobs, as curators and operators start them


STARTABLE_KINDS = (JobKind.STATISTICS, JobKind.QUALITY)


def can_run_jobs(user: User | None) -> bool:
    """Curators and admins start runs; `None` is the system (beat, the operator's shell)."""
    if user is None:
        return True
    return can_curate(user)


def _task_for(kind: str) -> QueueableTask:
    from . import tasks

    task: QueueableTask = {
        JobKind.STATISTICS: tasks.run_statistics,
        JobKind.QUALITY: tasks.run_quality_checks,
    }[JobKind(kind)]
    return task


def do_start_job(actor: User | None, kind: str, *, full: bool = False) -> JobRun:
    """Start a statistics run, or a quality run (incremental unless `full`)."""
    if not can_run_jobs(actor):
        raise PermissionDenied("Only curators and admins may start background jobs.")
    if kind not in STARTABLE_KINDS:
        raise ValidationError(
            {"kind": [f"Choose one of: {', '.join(str(k.value) for k in STARTABLE_KINDS)}."]}
        )
    parameters = {"full": bool(full)} if kind == JobKind.QUALITY else {}
    return do_request_job(actor, kind, _task_for(kind), parameters)


def do_rerun_job(actor: User | None, run: JobRun) -> JobRun:
    """Start a failed run again, as a new run that points back at it."""
    if not can_run_jobs(actor):
        raise PermissionDenied("Only curators and admins may re-run background jobs.")
    if run.status != JobStatus.FAILED:
        raise ValidationError(
            {
                "status": [
                    f"Only a failed run can be re-run, and this one is not: {run.status_sentence}"
                ]
            }
        )
    if run.kind not in STARTABLE_KINDS:
        raise ValidationError({"kind": [f"{run.get_kind_display()} runs are started elsewhere."]})
    return do_request_job(actor, run.kind, _task_for(run.kind), run.parameters, rerun_of=run)


def do_fail_stale_runs() -> int:
    """Mark failed the runs nobody is doing: running ones whose heartbeat stopped (their worker
    died) and queued ones no worker started in time (their message was lost, or no worker runs).

    Cheap when there are none; the jobs page and API call it, and beat every minute.
    """
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    queued_before = now - timedelta(seconds=settings.JOB_QUEUED_STALE_AFTER_SECONDS)
    stale = JobRun.objects.filter(
        Q(status=JobStatus.RUNNING, heartbeat_at__lt=stale_before)
        | Q(status=JobStatus.RUNNING, heartbeat_at__isnull=True, started_at__lt=stale_before)
        | Q(status=JobStatus.QUEUED, created_at__lt=queued_before)
    )
    if not stale.exists():
        return 0
    with transaction.atomic():
        runs = list(stale.select_for_update(skip_locked=True))
        for run in runs:
            if run.status == JobStatus.RUNNING:
                run.error = (
                    f"The run's worker stopped its heartbeat for more than "
                    f"{_duration(settings.JOB_STALE_AFTER_SECONDS)}: it probably "
                    "stopped (killed or restarted) mid-run. Re-run it."
                )
            else:
                run.error = (
                    f"No worker started the run within "
                    f"{_duration(settings.JOB_QUEUED_STALE_AFTER_SECONDS)} of its "
                    "request: its message was probably lost (the queue restarted), or "
                    "no worker is running. Re-run it once a worker runs."
                )
            event = "job.fail_stale" if run.status == JobStatus.RUNNING else "job.fail_unstarted"
            run.status, run.finished_at = JobStatus.FAILED, now
            run.save(update_fields=["status", "finished_at", "error"])
            record_event(None, event, run, context={"kind": run.kind})
    return len(runs)


def _duration(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:g} minutes"
    return f"{seconds:g} seconds"
