import pytest

from tests.quality.builders import eager_tasks, publish_forms

__all__ = ["eager_tasks", "forms"]


@pytest.fixture
def forms(db):
    return publish_forms()
