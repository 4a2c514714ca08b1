"""Redis down: starting a job gives up within two seconds, records the run failed with a
sentence saying what to do, and the API and pages say so (no hang, no 500)."""

from __future__ import annotations

import io
import socket
import time
from contextlib import contextmanager

import pytest
from celery import Celery
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from registry.celery import app as registry_app
from registry.jobs.models import JobKind, JobRun, JobStatus
from registry.jobs.services import QUEUE_UNREACHABLE, JobQueueUnavailable, do_start_job

pytestmark = pytest.mark.django_db(transaction=True)

# An upper bound a person would not call a hang; not a measure of speed.
PATIENCE_SECONDS = 2.0


@contextmanager
def broker_at(settings, port: int):
    """The project's Celery settings, with Redis expected at `port` of this machine."""
    url = f"redis://127.0.0.1:{port}/0"
    settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app = Celery("registry", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.set_current()
    try:
        yield app
    finally:
        registry_app.set_current()


@pytest.fixture
def redis_down(settings):
    """Redis at a port where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with broker_at(settings, port) as app:
        yield app


def test_starting_a_job_with_redis_down_fails_within_two_seconds_and_says_what_to_do(
    redis_down, curator
):
    started = time.monotonic()
    with pytest.raises(JobQueueUnavailable) as raised:
        do_start_job(curator, JobKind.STATISTICS)
    assert time.monotonic() - started < PATIENCE_SECONDS
    assert str(raised.value) == QUEUE_UNREACHABLE
    run = JobRun.objects.get()
    assert raised.value.run == run
    assert run.status == JobStatus.FAILED and run.finished_at
    assert run.error.startswith("The job queue (Redis) could not be reached")
    assert "Try again" in run.error and "tell your administrator" in run.error


def test_the_jobs_api_answers_503_with_the_message_when_redis_is_down(redis_down, curator):
    client = APIClient()
    client.force_authenticate(curator)
    started = time.monotonic()
    response = client.post("/api/v1/jobs/runs/", {"kind": "quality"}, format="json")
    assert time.monotonic() - started < PATIENCE_SECONDS
    assert response.status_code == 503 and response["Retry-After"]
    run = JobRun.objects.get()
    assert response.json() == {"detail": QUEUE_UNREACHABLE, "run": run.pk}
    assert run.status == JobStatus.FAILED


def test_a_rerun_through_the_api_answers_503_when_redis_is_down(redis_down, curator):
    failed = JobRun.objects.create(kind=JobKind.STATISTICS, status=JobStatus.FAILED)
    client = APIClient()
    client.force_authenticate(curator)
    response = client.post(f"/api/v1/jobs/runs/{failed.pk}/rerun/")
    assert response.status_code == 503 and response.json()["detail"] == QUEUE_UNREACHABLE
    assert JobRun.objects.get(rerun_of=failed).status == JobStatus.FAILED


def test_an_export_job_answers_503_when_redis_is_down(redis_down, forms, coordinator_a, patient_a):
    client = APIClient()
    client.force_authenticate(coordinator_a)
    response = client.post("/api/v1/exports/jobs/", {"shape": "ndjson"}, format="json")
    assert response.status_code == 503 and response.json()["detail"] == QUEUE_UNREACHABLE
    assert JobRun.objects.get(kind=JobKind.EXPORT).status == JobStatus.FAILED


def test_the_jobs_page_shows_the_failed_run_and_says_the_queue_is_down(redis_down, client, curator):
    client.force_login(curator)
    response = client.post("/jobs/start/", {"kind": "statistics"})
    run = JobRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/jobs/{run.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "The job queue (Redis) could not be reached" in page and "Failed" in page


def test_a_redis_that_accepts_connections_but_never_answers_is_given_up_within_seconds(
    settings, curator
):
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)  # the kernel accepts connections; nothing ever reads or answers them
        with broker_at(settings, hung.getsockname()[1]):
            started = time.monotonic()
            with pytest.raises(JobQueueUnavailable):
                do_start_job(curator, JobKind.STATISTICS)
            assert time.monotonic() - started < 6
    assert JobRun.objects.get().status == JobStatus.FAILED


def test_the_shell_command_exits_with_the_message_when_redis_is_down(redis_down):
    with pytest.raises(CommandError, match=r"could not be reached.*tell your administrator"):
        call_command("run_statistics", stdout=io.StringIO())
    assert JobRun.objects.get().status == JobStatus.FAILED
