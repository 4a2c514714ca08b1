"""The Celery wiring: tasks run eagerly without a broker, and on a real worker with Redis."""

import os

import pytest
from django.conf import settings
from django.db import connection

from registry.jobs.tasks import ping


@pytest.mark.django_db
@pytest.mark.skipif(bool(os.environ.get("REDIS_URL")), reason="a broker is configured")
def test_without_a_broker_tasks_run_eagerly_in_process():
    assert settings.CELERY_TASK_ALWAYS_EAGER
    result = ping.delay()
    assert result.get(timeout=1)["answer"] == "pong"


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_task_through_redis(celery_worker_thread):
    assert not settings.CELERY_TASK_ALWAYS_EAGER
    result = ping.delay()
    answer = result.get(timeout=30)
    assert answer == {"answer": "pong", "database": connection.vendor}
