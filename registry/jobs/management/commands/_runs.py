"""What the run_* commands share: start a run, wait for it if it is queued, print a summary."""

from __future__ import annotations

import time
from typing import Any

from celery import current_app
from django.core.management.base import BaseCommand, CommandError

from registry.jobs.models import JobRun, JobStatus
from registry.jobs.services import JobQueueUnavailable, do_start_job


def start_and_report(
    command: BaseCommand, kind: str, *, full: bool = False, wait: float = 0
) -> JobRun:
    try:
        run = do_start_job(None, kind, full=full)
    except JobQueueUnavailable as error:
        raise CommandError(f"Run {error.run.pk}: {error}") from error
    run.refresh_from_db()
    if not current_app.conf.task_always_eager and not run.is_finished:
        command.stdout.write(f"{run.status_sentence} Follow it on the jobs page (/jobs/).")
        deadline = time.monotonic() + wait
        while not run.is_finished and time.monotonic() < deadline:
            time.sleep(1)
            run.refresh_from_db()
        if not run.is_finished:
            return run
    _summary(command, run)
    if run.status == JobStatus.FAILED:
        raise CommandError(f"Run {run.pk} failed:\n{run.error}")
    return run


def _summary(command: BaseCommand, run: JobRun) -> None:
    command.stdout.write(run.status_sentence)
    if run.started_at and run.finished_at:
        took = (run.finished_at - run.started_at).total_seconds()
        command.stdout.write(f"  It took {took:.1f} s.")
    for key, value in run.counts.items():
        if isinstance(value, dict):
            command.stdout.write(f"  {key}:")
            for inner, count in value.items():
                command.stdout.write(f"    {inner:<28} {count}")
        else:
            command.stdout.write(f"  {key:<30} {value}")


def add_wait_argument(parser: Any) -> None:
    parser.add_argument(
        "--wait",
        type=float,
        default=0,
        metavar="SECONDS",
        help="with a queue configured, wait up to this long for the run to finish",
    )
