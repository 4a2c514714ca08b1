"""Pages, API answers and exports carry `Cache-Control: no-store`; static files keep their cache."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import api_token_for, enter_submission

pytestmark = pytest.mark.django_db

ASSESSMENT = {"mm_age_months": 60, "mm_present": "1", "wt_grade_left_task": "1"}


def assert_not_stored(response) -> None:
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= directives


@pytest.fixture
def signed_in(client, coordinator_a) -> Client:
    client.force_login(coordinator_a)
    return client


@pytest.fixture
def token_client(coordinator_a) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(coordinator_a)}")
    return client


@pytest.fixture
def assessed(coordinator_a, patient_a, registry_forms):
    enter_submission(coordinator_a, patient_a, registry_forms[("mirror_movements", 2)], ASSESSMENT)
    return patient_a


def test_a_patient_page_is_not_stored(signed_in, assessed):
    response = signed_in.get(f"/patients/{assessed.pseudonym}/")
    assert response.status_code == 200
    assert_not_stored(response)


def test_a_submission_page_is_not_stored(signed_in, assessed):
    response = signed_in.get(f"/patients/{assessed.pseudonym}/mirror_movements/1/")
    assert response.status_code == 200
    assert_not_stored(response)


def test_an_api_list_is_not_stored(token_client, assessed):
    response = token_client.get("/api/v1/submissions/")
    assert response.status_code == 200 and response.json()["count"] == 1
    assert_not_stored(response)


def test_a_redcap_export_is_not_stored(coordinator_a, assessed):
    response = Client().post(
        "/redcap/api/",
        {"token": api_token_for(coordinator_a), "content": "record", "format": "csv"},
    )
    assert response.status_code == 200
    assert assessed.pseudonym in b"".join(response.streaming_content).decode()
    assert_not_stored(response)


def test_the_login_page_is_not_stored(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert_not_stored(response)


def test_static_files_keep_their_cache(client):
    response = client.get("/static/css/registry.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
    assert "max-age" in response["Cache-Control"] and "max-age=0" not in response["Cache-Control"]
