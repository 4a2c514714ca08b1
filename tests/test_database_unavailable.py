"""While the database cannot be reached, the API and the pages answer 503 with Retry-After
(JSON for scripts, a page for browsers), never a 500; the next request connects afresh.

Real databases throughout: the request's own PostgreSQL backend terminated from another
connection (as a restart does), or the default connection swapped for one to a port where no
PostgreSQL listens, to an SQLite file that cannot be opened or that another connection keeps
locked.
"""

from __future__ import annotations

import socket
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from django.db import connection, connections
from django.db.utils import load_backend
from django.test import Client
from rest_framework.test import APIClient

from registry.database_unavailable import RETRY_AFTER_SECONDS
from registry.submissions.models import Submission
from tests.factories import api_token_for

NEW_ASSESSMENT = {"mm_age_months": 60, "mm_present": "1", "wt_grade_left_task": "1"}


@pytest.fixture
def token(coordinator_a) -> str:
    return api_token_for(coordinator_a)


def token_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def create_body(patient, key: uuid.UUID) -> dict[str, Any]:
    return {
        "patient": patient.pseudonym,
        "form": "mirror_movements",
        "data": NEW_ASSESSMENT,
        "client_uuid": str(key),
    }


def assert_api_503(response, key: str = "detail") -> str:
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response["Content-Type"] == "application/json"
    message = response.json()[key]
    assert "not reachable" in message and f"{RETRY_AFTER_SECONDS} seconds" in message
    return message


# --- the request's PostgreSQL connection is lost (a restart, a failover) -------------------

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="terminates a PostgreSQL backend"
)


def terminate_this_connection() -> None:
    """End this thread's PostgreSQL backend from another connection, as a restart would."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"],
        dbname=db["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_create_on_a_terminated_connection_answers_503_and_its_retry_is_saved_once(
    token, registry_forms, patient_a
):
    client = token_client(token)
    key = uuid.uuid4()
    terminate_this_connection()
    refused = client.post("/api/v1/submissions/", create_body(patient_a, key), format="json")
    assert "client_uuid" in assert_api_503(refused)
    assert not Submission.objects.filter(client_uuid=key).exists()
    first = client.post("/api/v1/submissions/", create_body(patient_a, key), format="json")
    again = client.post("/api/v1/submissions/", create_body(patient_a, key), format="json")
    assert first.status_code == again.status_code == 201
    assert Submission.objects.filter(client_uuid=key).count() == 1


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_redcap_call_on_a_terminated_connection_answers_503_in_redcaps_shape(
    token, registry_forms
):
    terminate_this_connection()
    refused = Client().post("/redcap/api/", {"token": token, "content": "version"})
    assert_api_503(refused, key="error")
    assert Client().post("/redcap/api/", {"token": token, "content": "version"}).status_code == 200


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_page_on_a_terminated_connection_answers_an_html_503(client, coordinator_a):
    client.force_login(coordinator_a)
    terminate_this_connection()
    refused = client.get("/")
    assert refused.status_code == 503
    assert refused["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert refused["Content-Type"].startswith("text/html")
    assert "database is not reachable" in refused.content.decode()
    assert client.get("/").status_code == 200


# --- the database refuses connections, or its file cannot be used --------------------------


@contextmanager
def default_database(**changes: Any) -> Iterator[None]:
    """The default connection, for the duration, is a new one with these settings changed."""
    original = connections["default"]
    settings_dict = {**original.settings_dict, **changes}
    replacement = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "default")
    connections["default"] = replacement
    try:
        yield
    finally:
        replacement.close()
        connections["default"] = original


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def postgresql_at(port: int) -> dict[str, Any]:
    return {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "127.0.0.1",
        "PORT": port,
        "NAME": "registry",
        "USER": "registry",
        "PASSWORD": "",
        "OPTIONS": {"connect_timeout": 2},
    }


def sqlite_at(path: Any, timeout: float = 20) -> dict[str, Any]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "HOST": "",
        "PORT": "",
        "OPTIONS": {
            "timeout": timeout,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;",
        },
    }


@pytest.mark.django_db
def test_an_api_create_answers_503_while_postgresql_refuses_connections(
    token, registry_forms, patient_a
):
    client = token_client(token)
    key = uuid.uuid4()
    with default_database(**postgresql_at(_free_port())):
        refused = client.post("/api/v1/submissions/", create_body(patient_a, key), format="json")
    assert_api_503(refused)
    assert (
        client.post("/api/v1/submissions/", create_body(patient_a, key), format="json").status_code
        == 201
    )


@pytest.mark.django_db
def test_a_page_answers_503_while_postgresql_refuses_connections(client, coordinator_a):
    client.force_login(coordinator_a)
    with default_database(**postgresql_at(_free_port())):
        refused = client.get("/")
    assert refused.status_code == 503 and refused["Content-Type"].startswith("text/html")
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_an_api_call_answers_503_when_the_sqlite_file_cannot_be_opened(
    token, registry_forms, tmp_path
):
    client = token_client(token)
    with default_database(**sqlite_at(tmp_path / "unmounted" / "registry.sqlite3")):
        refused = client.get("/api/v1/forms/")
    assert_api_503(refused)
    assert client.get("/api/v1/forms/").status_code == 200


@pytest.mark.django_db
def test_an_api_call_answers_503_while_the_sqlite_file_stays_locked(
    token, registry_forms, tmp_path
):
    path = tmp_path / "registry.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE anything (id integer)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with default_database(**sqlite_at(path, timeout=0.2)):
            refused = token_client(token).get("/api/v1/forms/")
    finally:
        holder.close()
    assert_api_503(refused)


@pytest.mark.django_db
def test_other_database_errors_are_still_server_errors(token, registry_forms, tmp_path):
    # An SQLite file without the registry's tables: a fault to fix, not a moment to wait.
    sqlite3.connect(tmp_path / "empty.sqlite3").close()
    client = token_client(token)
    client.raise_request_exception = False
    with default_database(**sqlite_at(tmp_path / "empty.sqlite3")):
        response = client.get("/api/v1/forms/")
    assert response.status_code == 500
