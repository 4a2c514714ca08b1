from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    name = "registry.submissions"
    label = "submissions"
