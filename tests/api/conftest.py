from __future__ import annotations

from collections.abc import Callable

import pytest
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
