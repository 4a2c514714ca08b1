from django.apps import AppConfig


class StatisticsConfig(AppConfig):
    name = "registry.statistics"
    label = "statistics"
    verbose_name = "Statistics"
