"""Celery entry points of exports. Tasks stay thin: they call services."""

from typing import Any

from celery import shared_task

from registry.jobs.services import execute_run


@shared_task(name="registry.exchange.run_export", acks_late=True)
def run_export(run_id: int) -> dict[str, Any]:
    """Write the export file of a recorded job run (idempotent: a finished run is not redone)."""
    from .services import write_export_file

    run = execute_run(run_id, write_export_file)
    return {"run": run_id, "status": run.status if run is not None else "missing"}
