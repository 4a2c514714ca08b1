import pytest

from registry.jobs.services import do_start_job
from tests.factories import registry_form_versions

__all__ = ["forms"]


@pytest.fixture
def forms(db):
    return registry_form_versions()


@pytest.fixture
def start(django_capture_on_commit_callbacks, eager_tasks):
    """Start a run and let its task run in process, as it does without a broker."""

    def starting(actor, kind, **options):
        with django_capture_on_commit_callbacks(execute=True):
            run = do_start_job(actor, kind, **options)
        run.refresh_from_db()
        return run

    return starting

