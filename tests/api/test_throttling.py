"""Throttling per token: a clear 429 with Retry-After, for one token without touching others."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import api_token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_per_minute(settings):
    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "2/minute"},
    }
    yield
    cache.clear()


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_a_token_over_its_rate_gets_429_with_retry_after(
    two_per_minute, coordinator_a, registry_forms
):
    token = api_token_for(coordinator_a)
    client = client_with(token)
    assert [client.get("/api/v1/forms/").status_code for _ in range(2)] == [200, 200]
    refused = client.get("/api/v1/forms/")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert "2/minute" in refused.json()["detail"] and "Try again" in refused.json()["detail"]
    # Another token of the same person has its own count.
    assert client_with(api_token_for(coordinator_a)).get("/api/v1/forms/").status_code == 200


def test_the_redcap_endpoint_shares_the_tokens_count(two_per_minute, coordinator_a, registry_forms):
    token = api_token_for(coordinator_a)
    client_with(token).get("/api/v1/forms/")
    client_with(token).get("/api/v1/forms/")
    refused = Client().post("/redcap/api/", {"token": token, "content": "version"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert "Try again" in refused.json()["error"]
