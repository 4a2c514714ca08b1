from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "registry.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        # Registers the deployment check and the login and logout receivers.
        from . import checks, signals  # noqa: F401
