"""People manage their own API tokens: created in a browser session, shown once, revocable."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from registry.people.models import ApiToken
from registry.people.tokens import hash_token
from tests.factories import api_token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def session_a(coordinator_a):
    client = APIClient()
    client.force_login(coordinator_a)
    return client


def test_a_new_token_is_shown_once_and_only_its_hash_is_kept(session_a, coordinator_a):
    response = session_a.post(
        "/api/v1/tokens/", {"name": "analysis", "expires_in_days": 30}, format="json"
    )
    assert response.status_code == 201 and "no-store" in response["Cache-Control"]
    token = response.json()["token"]
    assert len(token) == 32 and token.isalnum()
    stored = ApiToken.objects.get(user=coordinator_a)
    assert stored.key_hash == hash_token(token) and token not in stored.key_hash
    listed = session_a.get("/api/v1/tokens/").json()["results"]
    assert listed[0]["name"] == "analysis" and "token" not in listed[0]
    works = APIClient()
    works.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert works.get("/api/v1/sites/").status_code == 200


def test_a_token_cannot_make_new_tokens(coordinator_a):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(coordinator_a)}")
    response = client.post("/api/v1/tokens/", {"name": "copy"}, format="json")
    assert response.status_code == 403 and "session" in response.json()["detail"]
    assert ApiToken.objects.filter(user=coordinator_a).count() == 1


def test_a_revoked_token_stops_working(session_a, coordinator_a):
    token = api_token_for(coordinator_a)
    record = ApiToken.objects.get(user=coordinator_a)
    assert session_a.delete(f"/api/v1/tokens/{record.pk}/").status_code == 204
    record.refresh_from_db()
    assert record.revoked_at is not None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/sites/").status_code == 401


def test_expiry_must_be_sensible(session_a):
    response = session_a.post("/api/v1/tokens/", {"expires_in_days": 0}, format="json")
    assert response.status_code == 400 and "expires_in_days" in response.json()


def test_an_expired_token_is_refused_by_both_apis(coordinator_a, registry_forms):
    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone

    token = api_token_for(coordinator_a)
    record = ApiToken.objects.get(user=coordinator_a)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/sites/").status_code == 200
    redcap = Client().post("/redcap/api/", {"token": token, "content": "version"})
    assert redcap.status_code == 200

    ApiToken.objects.filter(pk=record.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/sites/").status_code == 401
    redcap = Client().post("/redcap/api/", {"token": token, "content": "version"})
    assert redcap.status_code == 403 and "token" in redcap.json()["error"]


def test_a_token_is_usable_until_its_expiry_and_not_at_it(coordinator_a):
    from datetime import timedelta

    api_token_for(coordinator_a)
    record = ApiToken.objects.get(user=coordinator_a)
    at = record.expires_at
    assert record.is_usable(at - timedelta(microseconds=1))
    assert not record.is_usable(at)
    record.revoked_at = at - timedelta(days=1)
    assert not record.is_usable(at - timedelta(days=2))
