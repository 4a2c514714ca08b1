"""The jobs page: runs with their status, progress, counts and errors; start and re-run."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .models import JobStatus
from .selectors import can_see_runs, has_active_runs, run_for, visible_runs
from .services import (
    JobQueueUnavailable,
    can_run_jobs,
    do_fail_stale_runs,
    do_rerun_job,
    do_start_job,
)

REFRESH_SECONDS = 5


def _require_runs(request: HttpRequest) -> None:
    if not can_see_runs(request.user):
        raise Http404("No such page.")


@login_required
def runs(request: HttpRequest) -> HttpResponse:
    _require_runs(request)
    # A run whose worker died shows as failed, not as running forever.
    do_fail_stale_runs()
    listed = visible_runs(request.user)
    kind = request.GET.get("kind")
    if kind:
        listed = listed.filter(kind=kind)
    return render(
        request,
        "jobs/runs.html",
        {
            "runs": listed[:100],
            "kind": kind,
            "can_run": can_run_jobs(request.user),
            "refresh": REFRESH_SECONDS if has_active_runs(listed) else None,
        },
    )


@login_required
def run(request: HttpRequest, pk: int) -> HttpResponse:
    _require_runs(request)
    do_fail_stale_runs()
    job = run_for(request.user, pk)
    return render(
        request,
        "jobs/run.html",
        {
            "run": job,
            "can_run": can_run_jobs(request.user),
            "refresh": None if job.is_finished else REFRESH_SECONDS,
        },
    )


@login_required
@require_POST
def start(request: HttpRequest) -> HttpResponse:
    _require_runs(request)
    try:
        job = do_start_job(
            request.user, request.POST.get("kind", ""), full=request.POST.get("full") == "1"
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("jobs:runs")
    except JobQueueUnavailable as error:
        messages.error(request, str(error))
        return redirect("jobs:run", pk=error.run.pk)
    job.refresh_from_db()
    if job.status == JobStatus.FAILED:
        messages.error(request, job.status_sentence)
    else:
        messages.success(request, job.status_sentence)
    return redirect("jobs:run", pk=job.pk)


@login_required
@require_POST
def rerun(request: HttpRequest, pk: int) -> HttpResponse:
    _require_runs(request)
    failed = run_for(request.user, pk)
    try:
        job = do_rerun_job(request.user, failed)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("jobs:run", pk=failed.pk)
    except JobQueueUnavailable as error:
        messages.error(request, str(error))
        return redirect("jobs:run", pk=error.run.pk)
    job.refresh_from_db()
    message = f"Run {failed.pk} started again. {job.status_sentence}"
    if job.status == JobStatus.FAILED:
        messages.error(request, message)
    else:
        messages.success(request, message)
    return redirect("jobs:run", pk=job.pk)
