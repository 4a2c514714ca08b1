from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "registry.quality"
    label = "quality"
    verbose_name = "Data quality"

    def ready(self) -> None:
        # Jobs and crfs, below this app, run its work and its check of forms/quality_rules.yaml
        # without importing it (registry/jobs/kinds.py, registry/crfs/field_uses.py); the
        # file's shape is checked at start-up.
        from django.core import checks

        from registry.crfs.field_uses import register_field_use_check
        from registry.jobs.kinds import register_work
        from registry.jobs.models import JobKind

        from .rules import field_use_problems, rules_file_problems
        from .services import quality_run

        register_work(JobKind.QUALITY, quality_run)
        register_field_use_check("quality_rules", field_use_problems)
        checks.register(rules_file_problems)
