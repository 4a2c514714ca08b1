"""A run whose work breaks its database connection is still recorded failed, and the worker's
next task gets a working connection (PostgreSQL: the connection is closed under Django)."""

from __future__ import annotations

from contextlib import suppress

import pytest
from django.db import connection

from registry.celery import reset_broken_connections
from registry.jobs.models import JobKind, JobRun, JobStatus
from registry.jobs.services import execute_run
from tests.jobs import worker_tasks

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="closes the connection, which would drop SQLite's in-memory test database",
    ),
]


@pytest.fixture(autouse=True)
def _close_abandoned():
    yield
    while worker_tasks._abandoned:
        # Their transaction belonged to a connection since thrown away: ending it fails.
        with suppress(Exception):
            worker_tasks._abandoned.pop().close()


def break_the_connection(run: JobRun) -> dict:
    worker_tasks.leave_connection_broken_inside_a_transaction("the connection broke under the work")
    return {}


def test_a_run_whose_work_broke_its_connection_is_still_recorded_failed():
    run = JobRun.objects.create(kind=JobKind.EXPORT)
    try:
        with pytest.raises(RuntimeError, match="broke under the work"):
            execute_run(run.pk, break_the_connection)
    finally:
        reset_broken_connections()
    run = JobRun.objects.get(pk=run.pk)
    assert run.status == JobStatus.FAILED and "broke under the work" in run.error


def test_between_tasks_a_connection_left_inside_a_transaction_is_replaced():
    run = JobRun.objects.create(kind=JobKind.EXPORT)
    with pytest.raises(RuntimeError):
        break_the_connection(run)
    assert connection.in_atomic_block

    reset_broken_connections()
    assert not connection.in_atomic_block
    assert JobRun.objects.filter(pk=run.pk).exists()
