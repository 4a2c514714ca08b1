import os

import django.test
import pytest
from hypothesis import HealthCheck, settings

from registry.people.models import Role
from tests.factories import SiteFactory, UserFactory, verify_session

# Property tests are about what they find, not how fast: a loaded CI machine (or the tracing of
# a mutation run) must not fail them on time. The mutation run also needs each mutant to meet
# the same examples, and fewer of them (python -m mutation.check).
settings.register_profile("registry", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "mutation", parent=settings.get_profile("registry"), derandomize=True, max_examples=25
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "registry"))


class Client(django.test.Client):
    """Django's test client, whose `force_login` signs in with both factors where the role
    needs two (the person gets an authenticator app): pages are tested as they are used.
    `force_login(user, verified=False)` stops after the password, as tests of the second step
    need."""

    def force_login(self, user, backend=None, *, verified=True):
        super().force_login(user, backend)
        if verified:
            verify_session(self, user)


@pytest.fixture
def client():
    return Client()


@pytest.fixture(autouse=True)
def _unscoped():
    """Tests build and inspect rows directly, as a management command does: every site.
    Autouse, since nearly every test touches patient data through factories or services;
    requests made by the test client still run in their person's scope (the middleware sets
    it), and tests of the guard itself leave this scope with `no_scope`."""
    from registry.people.scoping import unscoped

    with unscoped("test set-up and checks"):
        yield


@pytest.fixture
def site_a():
    return SiteFactory(code="SITEA", name="Hospital A")


@pytest.fixture
def site_b():
    return SiteFactory(code="SITEB", name="Hospital B")


@pytest.fixture
def coordinator_a(site_a):
    return UserFactory(username="coord_a", role=Role.COORDINATOR, sites=[site_a])


@pytest.fixture
def coordinator_b(site_b):
    return UserFactory(username="coord_b", role=Role.COORDINATOR, sites=[site_b])


@pytest.fixture
def curator():
    return UserFactory(username="curator", role=Role.CURATOR, is_staff=True)


@pytest.fixture
def researcher():
    return UserFactory(username="researcher", role=Role.RESEARCHER)


@pytest.fixture
def admin_user():
    return UserFactory(username="admin", role=Role.ADMIN, is_staff=True, is_superuser=True)


def pytest_collection_modifyitems(config, items):
    if os.environ.get("REDIS_URL"):
        return
    skip = pytest.mark.skip(reason="needs REDIS_URL and a worker: run `make test-services`")
    for item in items:
        if "services" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def celery_worker_thread(django_db_setup, django_db_blocker):
    """A real Celery worker consuming from Redis, in a thread of this process.

    It shares the test database settings, so data committed by a transactional test is what the
    worker reads.
    """
    from celery.contrib.testing.worker import start_worker

    from registry.celery import app

    with (
        django_db_blocker.unblock(),
        start_worker(
            app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=10
        ) as worker,
    ):
        yield worker


@pytest.fixture
def registry_forms(db):
    """The registry's own CRFs, published from forms/: {(form, version): FormVersion}."""
    from tests.factories import registry_form_versions

    return registry_form_versions()


@pytest.fixture
def patient_a(site_a):
    from tests.factories import PatientFactory

    return PatientFactory(site=site_a, pseudonym="SITEA-AAAAA-00001")


@pytest.fixture
def patient_b(site_b):
    from tests.factories import PatientFactory

    return PatientFactory(site=site_b, pseudonym="SITEB-BBBBB-00001")


@pytest.fixture
def eager_tasks():
    """Tasks run in this process, as without a broker, even when REDIS_URL is set."""
    from registry.celery import app

    # The settings are namespaced (CELERY_...): the plain attribute names would not stick.
    saved = {
        "CELERY_TASK_ALWAYS_EAGER": app.conf.task_always_eager,
        "CELERY_TASK_EAGER_PROPAGATES": app.conf.task_eager_propagates,
    }
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=True, CELERY_TASK_EAGER_PROPAGATES=True)
    yield app
    app.conf.update(saved)
