"""Schemathesis over the OpenAPI schema, in-process: whatever it sends, no answer is a 5xx.

Every operation gets a modest number of generated requests (valid and invalid), with an
administrator's token so that the requests reach the views rather than stop at the door.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from registry.wsgi import application
from tests.factories import api_token_for

pytestmark = pytest.mark.django_db
EXAMPLES_PER_OPERATION = 8
# Starting job runs is left out: with a broker configured it would queue work that no worker of
# this test consumes. The job endpoints have their own tests.
LEFT_OUT = ("/api/v1/jobs/",)


@pytest.fixture
def generous_rate(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"api": "100000/minute"}}


@pytest.fixture
def connection_kept_open():
    """Keep the test's database connection across in-process requests, as Django's test client
    does: the WSGI handler would otherwise close it at the end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_no_generated_request_gets_a_server_error(generous_rate, connection_kept_open,
                                                  admin_user, patient_a, patient_b):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    headers = {"Authorization": f"Token {api_token_for(admin_user)}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith(LEFT_OUT):
            continue
        operations += 1
        fixed = {}
        if operation.method.upper() == "DELETE" and "tokens" in operation.path:
            fixed = {"id": 10_000_000}  # never revoke the token these requests use
        modes = [GenerationMode.POSITIVE]
        if len(operation.query) or len(operation.body):
            # Text path parameters cannot be made invalid; searching for a way would only
            # spend time.
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed)

            @given(case=strategy)
            @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            def call(case: schemathesis.Case) -> None:
                response = case.call(headers=headers)
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path}: "
                                    f"{response.status_code} {response.text[:300]}")

            try:
                call()
            except Unsatisfiable:
                # Nothing in this operation can be made invalid (negative mode): nothing to do.
                assert mode is GenerationMode.NEGATIVE
    assert operations >= 20
    assert failures == []
