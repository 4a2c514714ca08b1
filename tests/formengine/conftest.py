import pytest

from registry.formengine import phi


@pytest.fixture(autouse=True)
def _screen_remembers_nothing():
    """Each test meets the identifier screen as a new process does: a text remembered as clean
    by an earlier test (or by the run that `make mutation` forks its mutants from) would hide
    a change to the screen."""
    phi._clean_texts.clear()
