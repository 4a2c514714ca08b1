from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "registry.quality"
    label = "quality"
    verbose_name = "Data quality"
