"""Job runs in process (no broker): recorded, retried, failed, re-run, scheduled, started by
curators from the pages, the API and the shell."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.utils import timezone
from rest_framework.test import APIClient

from registry.jobs import tasks
from registry.jobs.models import JobKind, JobRun, JobStatus
from registry.jobs.services import (
    do_rerun_job,
    do_start_job,
    execute_run,
)
from registry.quality.models import QualityIssue
from registry.statistics.models import StatsSnapshot
from tests.quality.builders import LESION, clean_patient

pytestmark = pytest.mark.django_db


def test_a_statistics_run_is_recorded_from_request_to_success(start, curator, forms, site_a):
    clean_patient(site_a)
    run = start(curator, JobKind.STATISTICS)
    assert run.status == JobStatus.SUCCEEDED
    assert run.started_at and run.finished_at and run.finished_at >= run.started_at
    assert run.counts["patients"] == 1 and run.counts["snapshot"] == run.snapshot.pk
    assert run.progress_done == run.progress_total > 0
    assert run.task_id


def test_a_quality_run_records_its_counts(start, curator, forms, site_a):
    clean_patient(site_a)
    who = clean_patient(site_a)
    who.submissions.filter(form__name="dysraphic_lesion").update(
        data={**LESION, "lesion_level": "lumbar"}
    )
    run = start(curator, JobKind.QUALITY, full=True)
    assert run.status == JobStatus.SUCCEEDED
    assert run.counts["mode"] == "full" and run.counts["new"] == 1
    assert run.state["baselines"]["enrollment"]["enrol_age_months"][0] == 2
    assert QualityIssue.objects.count() == 1


def test_a_task_that_raises_is_recorded_as_failed_and_a_rerun_succeeds(
    start, curator, forms, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(progress=None):
        raise RuntimeError("the statistics could not be computed")

    monkeypatch.setattr("registry.statistics.services.compute_statistics", broken)
    failed = start(curator, JobKind.STATISTICS)
    assert failed.status == JobStatus.FAILED
    assert "the statistics could not be computed" in failed.error
    assert not StatsSnapshot.objects.exists()

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        rerun = do_rerun_job(curator, failed)
    rerun.refresh_from_db()
    assert rerun.status == JobStatus.SUCCEEDED and rerun.rerun_of == failed
    failed.refresh_from_db()
    assert failed.status == JobStatus.FAILED  # the history of the failure stays


def test_a_transient_database_error_is_retried(start, curator, forms, monkeypatch):
    from registry.statistics import services

    real = services.compute_statistics
    calls = []

    def flaky(progress=None):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("the database went away for a moment")
        return real(progress)

    monkeypatch.setattr(services, "compute_statistics", flaky)
    run = start(curator, JobKind.STATISTICS)
    assert len(calls) == 2
    assert run.status == JobStatus.SUCCEEDED and run.error == ""


def test_tasks_acknowledge_late_and_retry_only_transient_errors():
    for task in (tasks.run_statistics, tasks.run_quality_checks):
        assert task.acks_late is True
        assert task.autoretry_for == (OperationalError,)
        assert 0 < task.max_retries <= 5


def test_a_succeeded_run_is_not_done_again(curator, forms):
    run = JobRun.objects.create(kind=JobKind.STATISTICS, status=JobStatus.SUCCEEDED)
    calls = []
    assert execute_run(run.pk, lambda r: calls.append(r) or {}) == run
    assert calls == []


def test_a_run_another_worker_is_busy_with_is_left_to_it(curator):
    run = JobRun.objects.create(
        kind=JobKind.STATISTICS,
        status=JobStatus.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )
    calls = []
    execute_run(run.pk, lambda r: calls.append(r) or {})
    assert calls == []


def test_only_a_failed_run_can_be_rerun(curator):
    run = JobRun.objects.create(kind=JobKind.STATISTICS, status=JobStatus.SUCCEEDED)
    with pytest.raises(Exception, match="Only a failed run"):
        do_rerun_job(curator, run)


def test_only_curators_and_admins_start_runs(coordinator_a, researcher):
    for person in (coordinator_a, researcher):
        with pytest.raises(PermissionDenied):
            do_start_job(person, JobKind.STATISTICS)
    assert not JobRun.objects.exists()


def test_beat_schedules_the_nightly_runs_and_the_sweep_of_stale_runs_every_minute():
    schedule = settings.CELERY_BEAT_SCHEDULE
    names = {entry["task"] for entry in schedule.values()}
    assert names == {
        "registry.jobs.nightly_statistics",
        "registry.jobs.nightly_quality_checks",
        "registry.jobs.fail_stale_runs",
    }
    assert schedule["fail-stale-runs"]["schedule"] <= 60
    from registry.celery import app

    assert names <= set(app.tasks)


@pytest.mark.django_db(transaction=True)
def test_the_nightly_tasks_record_their_runs(forms, eager_tasks):
    tasks.nightly_statistics.delay()
    tasks.nightly_quality_checks.delay()
    runs = {run.kind: run for run in JobRun.objects.all()}
    assert runs[JobKind.STATISTICS].status == JobStatus.SUCCEEDED
    assert runs[JobKind.QUALITY].parameters == {"full": False}
    assert runs[JobKind.QUALITY].requested_by is None


@pytest.mark.django_db(transaction=True)
def test_the_shell_commands_run_the_same_tasks_and_print_a_summary(forms, site_a, eager_tasks):
    clean_patient(site_a)
    out = io.StringIO()
    call_command("run_statistics", stdout=out)
    run = JobRun.objects.get(kind=JobKind.STATISTICS)
    assert f"Aggregate statistics run {run.pk} finished." in out.getvalue()
    assert "succeeded" not in out.getvalue()
    out = io.StringIO()
    call_command("run_quality_checks", "--full", stdout=out)
    assert "Data-quality checks run" in out.getvalue() and "mode" in out.getvalue()
    assert JobRun.objects.get(kind=JobKind.QUALITY).parameters == {"full": True}


@pytest.mark.django_db(transaction=True)
def test_a_failing_shell_run_exits_with_the_error(forms, eager_tasks, monkeypatch):
    monkeypatch.setattr(
        "registry.statistics.services.compute_statistics", lambda progress=None: 1 / 0
    )
    with pytest.raises(CommandError, match="ZeroDivisionError"):
        call_command("run_statistics", stdout=io.StringIO())


# --------------------------------------------------------------------------------------------
# The jobs page and the API


def test_the_jobs_page_lists_runs_with_progress_and_refreshes_while_one_is_active(client, curator):
    JobRun.objects.create(
        kind=JobKind.QUALITY,
        status=JobStatus.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        progress_done=40,
        progress_total=80,
    )
    JobRun.objects.create(
        kind=JobKind.STATISTICS, status=JobStatus.FAILED, error="Traceback: something broke"
    )
    client.force_login(curator)
    page = client.get("/jobs/").content.decode()
    assert 'aria-valuenow="50"' in page and "40 of 80" in page
    assert 'http-equiv="refresh"' in page
    assert "something broke" in page and "Re-run" in page


def test_the_jobs_page_is_for_curators_and_admins(client, coordinator_a, researcher):
    for person in (coordinator_a, researcher):
        client.force_login(person)
        assert client.get("/jobs/").status_code == 404
        assert client.post("/jobs/start/", {"kind": "quality"}).status_code == 404
    assert not JobRun.objects.exists()


def test_a_curator_starts_and_reruns_from_the_pages(
    client, curator, forms, eager_tasks, django_capture_on_commit_callbacks
):
    client.force_login(curator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/jobs/start/", {"kind": "quality", "full": "1"})
    run = JobRun.objects.get()
    assert response["Location"] == f"/jobs/{run.pk}/"
    assert run.status == JobStatus.SUCCEEDED and run.parameters == {"full": True}
    page = client.get(f"/jobs/{run.pk}/").content.decode()
    assert "Succeeded" in page and 'http-equiv="refresh"' not in page

    JobRun.objects.filter(pk=run.pk).update(status=JobStatus.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/jobs/{run.pk}/rerun/")
    again = JobRun.objects.get(rerun_of=run)
    assert response["Location"] == f"/jobs/{again.pk}/" and again.status == JobStatus.SUCCEEDED


def test_a_curator_starts_a_run_through_the_api(
    curator, forms, eager_tasks, django_capture_on_commit_callbacks
):
    client = APIClient()
    client.force_authenticate(curator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/jobs/runs/", {"kind": "statistics"}, format="json")
    assert response.status_code == 202
    body = response.json()
    assert body["kind"] == "statistics" and body["status"] == "queued"
    assert response["Location"] == f"/api/v1/jobs/runs/{body['id']}/"
    listed = client.get("/api/v1/jobs/runs/").json()
    assert [item["id"] for item in listed["results"]] == [body["id"]]
    followed = client.get(response["Location"]).json()
    assert followed["status"] == "succeeded" and followed["counts"]["snapshot"]


def test_others_cannot_start_or_see_runs_through_the_api(researcher, coordinator_a):
    run = JobRun.objects.create(kind=JobKind.STATISTICS, status=JobStatus.FAILED)
    for person in (researcher, coordinator_a):
        client = APIClient()
        client.force_authenticate(person)
        assert (
            client.post("/api/v1/jobs/runs/", {"kind": "statistics"}, format="json").status_code
            == 403
        )
        assert client.get("/api/v1/jobs/runs/").status_code == 403
        assert client.get(f"/api/v1/jobs/runs/{run.pk}/").status_code == 404
        assert client.post(f"/api/v1/jobs/runs/{run.pk}/rerun/").status_code == 404
    assert JobRun.objects.count() == 1


def test_an_unknown_kind_of_run_is_refused_with_the_choices(curator):
    client = APIClient()
    client.force_authenticate(curator)
    response = client.post("/api/v1/jobs/runs/", {"kind": "export"}, format="json")
    assert response.status_code == 400 and "kind" in response.json()
