"""The Celery app: `celery -A registry worker` starts a worker, `celery -A registry beat` beat.

With no REDIS_URL the settings make every task run eagerly in-process (see settings/base.py).
"""

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings.production")

app = Celery("registry")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def reset_broken_connections(task: Any = None, **_: Any) -> None:
    """Give the next task a working database connection, whatever the last one did to it.

    Celery's own Django fix-up closes a connection that had errors, but a connection closed
    inside a transaction stays "in" it (Django refuses to reopen it until the atomic block
    ends), and a task that failed with a transaction still open (a generator abandoned
    inside one) never ends it: every later task of that worker process failed. Between
    tasks no transaction is legitimately open, so such a connection is thrown away. Tasks run
    eagerly inside a caller's transaction are left alone.
    """
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if connection.in_atomic_block:
            try:
                if connection.connection is not None:
                    connection.connection.close()
            except Exception:  # it is being thrown away: any state will do
                pass
            del connections[connection.alias]
        else:
            connection.close_if_unusable_or_obsolete()
