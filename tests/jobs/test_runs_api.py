"""The job runs' REST API answers as its OpenAPI schema states."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from registry.jobs.models import JobKind, JobRun, JobStatus

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (JobKind.STATISTICS, JobStatus.SUCCEEDED),
        (JobKind.QUALITY, JobStatus.RUNNING),
    ],
)
def test_a_run_that_cannot_be_rerun_is_a_409_saying_why(curator, kind, status):
    run = JobRun.objects.create(kind=kind, status=status)
    client = APIClient()
    client.force_authenticate(curator)
    response = client.post(f"/api/v1/jobs/runs/{run.pk}/rerun/")
    # The request is well formed; the run's state is what stands in the way.
    assert response.status_code == 409
    assert "Only a failed run can be re-run" in response.json()["status"][0]
    assert JobRun.objects.count() == 1
