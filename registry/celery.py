"""The Celery app: `celery -A registry worker` starts a worker, `celery -A registry beat` beat.

With no REDIS_URL the settings make every task run eagerly in-process (see settings/base.py).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings.production")

app = Celery("registry")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
