from django.apps import AppConfig


class StatisticsConfig(AppConfig):
    name = "registry.statistics"
    label = "statistics"
    verbose_name = "Statistics"

    def ready(self) -> None:
        # Jobs and crfs, below this app, run its work and its check of forms/statistics.yaml
        # without importing it (registry/jobs/kinds.py, registry/crfs/field_uses.py).
        from registry.crfs.field_uses import register_field_use_check
        from registry.jobs.kinds import register_work
        from registry.jobs.models import JobKind

        from . import checks  # noqa: F401  (the file's shape, checked at start-up)
        from .clinical import field_use_problems
        from .services import statistics_run

        register_work(JobKind.STATISTICS, statistics_run)
        register_field_use_check("statistics", field_use_problems)
