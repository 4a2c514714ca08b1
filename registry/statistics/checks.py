"""At start-up (`manage.py check`, every command that runs the checks): forms/statistics.yaml
is well formed. Whether its fields exist is checked against the forms when a version is
published and before each computation, which need the database."""

from __future__ import annotations

from typing import Any

from django.core import checks

from .clinical import StatisticsFileError, load_statistics_file


@checks.register()
def statistics_file(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    try:
        load_statistics_file(None)
    except StatisticsFileError as error:
        return [checks.Error(problem, id="statistics.E001") for problem in error.problems]
    return []
