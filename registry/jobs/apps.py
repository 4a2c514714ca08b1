from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "registry.jobs"
    label = "jobs"
    verbose_name = "Background jobs"
