from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "registry.people"
    label = "people"
    verbose_name = "People and sites"
