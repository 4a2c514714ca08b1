from __future__ import annotations

from collections.abc import Callable

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.test import APIClient

from registry.people.models import User
from tests.exchange.registry_data import (  # noqa: F401  (fixtures)
    patient_a,
    patient_b,
    registry_forms,
    researcher_token,
    token_a,
)
from tests.factories import api_token_for


@pytest.fixture
def client_for() -> Callable[[User], APIClient]:
    """An API client that authenticates as `user` with a fresh token."""

    def make(user: User) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
        return client

    return make


@pytest.fixture
def connection_kept_open():
    """Keep the test's database connection across in-process requests, as Django's test client
    does: the WSGI handler would otherwise close it at the end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def openapi(connection_kept_open) -> schemathesis.schemas.BaseSchema:
    """The API's OpenAPI schema as served, to call operations through and validate answers
    against (`openapi["/api/v1/sites/"]["GET"].validate_response(response)`)."""
    from registry.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/", application)
