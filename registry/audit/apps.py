from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "registry.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from . import (  # noqa: F401  (registers the check; login and logout receivers)
            checks,
            signals,
        )
