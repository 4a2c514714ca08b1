import pytest

from tests.factories import registry_form_versions

__all__ = ["forms"]


@pytest.fixture
def forms(db):
    return registry_form_versions()
