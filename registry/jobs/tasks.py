"""Celery entry points. Tasks stay thin: they call services."""

from celery import shared_task
from django.db import connection


@shared_task(name="registry.jobs.ping")
def ping() -> dict[str, str]:
    """Prove that a worker is alive and reaches the database: used by health checks and tests."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (one,) = cursor.fetchone()
    return {"answer": "pong", "database": connection.vendor if one == 1 else "unreachable"}
