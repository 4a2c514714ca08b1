from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "registry.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        # Registers the deployment check.
        from . import checks  # noqa: F401
