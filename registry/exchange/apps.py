from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "registry.exchange"
    label = "exchange"
    verbose_name = "Exports and the REDCap-compatible API"
