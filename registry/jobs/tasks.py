"""Celery entry points. Tasks stay thin: they call services.

Every task acknowledges late (a worker that dies mid-run leaves the message for another) and
is retried on transient database errors, a few times with growing pauses. Running a run twice
is harmless: `execute_run` does not redo a run that succeeded. What a run does is registered by
the app that owns it (kinds.py).
"""

from typing import Any

from celery import shared_task
from django.db import OperationalError, connection

from .kinds import work_for
from .models import JobKind

RETRYING: dict[str, Any] = {
    "bind": True,
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 3,
}


@shared_task(name="registry.jobs.ping", ignore_result=False)
def ping() -> dict[str, str]:
    """Prove that a worker is alive and reaches the database: used by health checks and tests."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (one,) = cursor.fetchone()
    return {"answer": "pong", "database": connection.vendor if one == 1 else "unreachable"}


@shared_task(name="registry.jobs.run_statistics", **RETRYING)
def run_statistics(self: Any, run_id: int) -> str:
    from .services import execute_run

    run = execute_run(run_id, work_for(JobKind.STATISTICS))
    return run.status if run is not None else "missing"


@shared_task(name="registry.jobs.run_quality_checks", **RETRYING)
def run_quality_checks(self: Any, run_id: int) -> str:
    from .services import execute_run

    run = execute_run(run_id, work_for(JobKind.QUALITY))
    return run.status if run is not None else "missing"


@shared_task(name="registry.jobs.nightly_statistics", acks_late=True)
def nightly_statistics() -> int:
    """Beat's nightly statistics: recorded like any other run."""
    from .services import do_start_job

    return do_start_job(None, JobKind.STATISTICS).pk


@shared_task(name="registry.jobs.nightly_quality_checks", acks_late=True)
def nightly_quality_checks() -> int:
    """Beat's nightly incremental quality checks."""
    from .services import do_start_job

    return do_start_job(None, JobKind.QUALITY, full=False).pk


@shared_task(name="registry.jobs.fail_stale_runs")
def fail_stale_runs() -> int:
    """Beat's sweep, every minute: runs whose worker died or whose message was lost fail."""
    from .services import do_fail_stale_runs

    return do_fail_stale_runs()
