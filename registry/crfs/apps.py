from django.apps import AppConfig


class CrfsConfig(AppConfig):
    name = "registry.crfs"
    label = "crfs"
    verbose_name = "Case-report forms"
