"""A run's state reads as a whole sentence for every status, on the pages and in the messages:
never a status code or label glued into a sentence ("run 2 is succeeded"); counts by
words, not their keys."""

from __future__ import annotations

import pytest

from registry.jobs.models import JobKind, JobRun, JobStatus

pytestmark = pytest.mark.django_db

TRACEBACK = """Traceback (most recent call last):
  File "registry/statistics/services.py", line 12, in compute
    raise RuntimeError("the statistics could not be computed")
RuntimeError: the statistics could not be computed
"""


def run_with(status: str, error: str = "") -> JobRun:
    return JobRun.objects.create(kind=JobKind.STATISTICS, status=status, error=error)


@pytest.mark.parametrize(
    ("status", "sentence"),
    [
        (JobStatus.QUEUED, "Aggregate statistics run {pk} is waiting for a worker."),
        (JobStatus.RUNNING, "Aggregate statistics run {pk} is running."),
        (JobStatus.SUCCEEDED, "Aggregate statistics run {pk} finished."),
        (JobStatus.FAILED, "Aggregate statistics run {pk} failed."),
    ],
)
def test_each_status_has_its_own_sentence(status, sentence):
    run = run_with(status)
    assert run.status_sentence == sentence.format(pk=run.pk)


def test_every_status_has_a_sentence_of_its_own_without_a_glued_label():
    sentences = {run_with(status).status_sentence.split(" ", 4)[-1] for status in JobStatus}
    assert len(sentences) == len(JobStatus)
    assert not any(
        glued in " ".join(sentences) for glued in ("is succeeded", "is queued", "is failed")
    )


def test_a_failed_run_says_the_exception_of_its_traceback():
    run = run_with(JobStatus.FAILED, TRACEBACK)
    assert run.status_sentence == (
        f"Aggregate statistics run {run.pk} failed: "
        "RuntimeError: the statistics could not be computed"
    )


def test_a_failed_run_says_the_registrys_own_reason_first():
    run = run_with(
        JobStatus.FAILED, "The job could not be queued.\n\nOperationalError: connection refused"
    )
    assert run.status_sentence == (
        f"Aggregate statistics run {run.pk} failed: The job could not be queued."
    )


def test_starting_a_run_from_the_page_says_so_in_a_sentence(client, curator, eager_tasks):
    client.force_login(curator)
    page = client.post("/jobs/start/", {"kind": "statistics"}, follow=True).content.decode()
    run = JobRun.objects.get()
    assert f"Aggregate statistics run {run.pk} is waiting for a worker." in page
    assert "is queued" not in page


def test_a_rerun_from_the_page_names_both_runs_in_sentences(client, curator, eager_tasks):
    failed = run_with(JobStatus.FAILED, TRACEBACK)
    client.force_login(curator)
    page = client.post(f"/jobs/{failed.pk}/rerun/", follow=True).content.decode()
    again = JobRun.objects.get(rerun_of=failed)
    assert (
        f"Run {failed.pk} started again. Aggregate statistics run {again.pk} "
        "is waiting for a worker."
    ) in page


def test_the_run_pages_name_counts_in_words_not_their_keys(client, curator):
    run = JobRun.objects.create(
        kind=JobKind.QUALITY,
        status=JobStatus.SUCCEEDED,
        counts={"patients_checked": 3, "by_rule": {"hidden_value": 2}},
    )
    client.force_login(curator)
    page = client.get(f"/jobs/{run.pk}/").content.decode()
    assert "Patients checked</th><td>3" in page and "Findings of hidden_value</th><td>2" in page
    assert "patients_checked" not in page
    listing = client.get("/jobs/").content.decode()
    assert "Patients checked: 3" in listing and "patients_checked" not in listing
