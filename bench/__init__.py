"""The benchmark suite: each figure measured beside the limit it is compared with."""

import os

# Before anything imports `registry` (whose Celery module defaults to production settings).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings.test")
