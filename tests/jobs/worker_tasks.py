"""Tasks only the tests' worker processes know (`celery worker -I tests.jobs.worker_tasks`)."""

from __future__ import annotations

import os
import time
from typing import Any

from celery import shared_task
from django.db import connection, transaction

from registry.jobs.models import JobRun
from registry.jobs.services import execute_run, report_progress

# Generators a task abandoned: kept so that nothing closes them behind the test's back.
_abandoned: list[Any] = []


def _slow(run: JobRun) -> dict[str, int]:
    for step in range(1200):
        report_progress(run, step, 1200)
        time.sleep(0.1)
    return {"steps": 1200}


@shared_task(name="tests.jobs.slow_run", acks_late=True)
def slow_run(run_id: int) -> None:
    """A run that takes two minutes: long enough to kill its worker in the middle."""
    execute_run(run_id, _slow)


def leave_connection_broken_inside_a_transaction(message: str) -> None:
    """Fail as an export job once did: inside a transaction it never leaves (a generator
    suspended in an atomic block), on a connection whose socket is gone."""

    def rows():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            yield

    rows_left_open = rows()
    next(rows_left_open)
    _abandoned.append(rows_left_open)
    connection.connection.close()
    raise RuntimeError(message)


@shared_task(name="tests.jobs.leave_connection_broken", ignore_result=False)
def leave_connection_broken() -> None:
    leave_connection_broken_inside_a_transaction("left the database connection broken on purpose")


@shared_task(name="tests.jobs.process_id", ignore_result=False)
def process_id() -> int:
    return os.getpid()
