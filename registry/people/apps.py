from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "registry.people"
    label = "people"
    verbose_name = "People and sites"

    def ready(self) -> None:
        # Registers what happens at the password step of signing in, then the audit trail's
        # login, failed login and logout receivers (in that order: a session starts, then its
        # login is audited).
        from . import signals  # noqa: F401, I001
        from . import login_trail  # noqa: F401
