import pytest

from tests.factories import registry_form_versions
from tests.quality.builders import eager_tasks

__all__ = ["eager_tasks", "forms"]


@pytest.fixture
def forms(db):
    return registry_form_versions()
