from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "registry.demo"
    label = "demo"
    verbose_name = "Demo data"
