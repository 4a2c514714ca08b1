from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "registry.api"
    label = "api"
    verbose_name = "REST API"

    def ready(self) -> None:
        from registry.rest import (
            openapi,  # noqa: F401  (registers the token scheme with drf-spectacular)
        )
