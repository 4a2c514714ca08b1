from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "registry.people"
    label = "people"
    verbose_name = "People and sites"

    def ready(self) -> None:
        # Registers what happens at the password step of signing in.
        from . import signals  # noqa: F401
