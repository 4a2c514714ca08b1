"""With Redis down or hung, the API answers as usual (uncounted by the rate limit), quickly,
with a warning in the log; counting resumes once Redis is back.

The cache is a real RedisCache pointed at a port where nothing listens, at a socket that
accepts connections but never answers, or at a Redis server the test starts itself.
"""

from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from django.test import Client
from rest_framework.test import APIClient

from registry import cache_outage
from registry.settings.base import REDIS_CACHE_OPTIONS
from registry.submissions.models import Submission
from tests.factories import DEFAULT_PASSWORD, api_token_for

pytestmark = pytest.mark.django_db

# What a request may cost at most while Redis is unreachable: the cache's timeouts are 0.5 s.
QUICKLY = 2.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cache_at(settings, port: int) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }


@pytest.fixture
def redis_down(settings) -> int:
    port = _free_port()
    _cache_at(settings, port)
    return port


@pytest.fixture
def redis_hung(settings) -> Iterator[None]:
    """A server that accepts connections (the kernel does, from its backlog) and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        _cache_at(settings, server.getsockname()[1])
        yield


@pytest.fixture
def token_client(coordinator_a) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(coordinator_a)}")
    return client


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_a_rest_read_answers_200_quickly_while_redis_is_down(
    redis_down, token_client, registry_forms
):
    response, seconds = _timed(lambda: token_client.get("/api/v1/forms/"))
    assert response.status_code == 200
    assert seconds < QUICKLY


def test_a_rest_create_is_saved_while_redis_is_down(redis_down, token_client, patient_a):
    key = uuid.uuid4()
    response, seconds = _timed(
        lambda: token_client.post(
            "/api/v1/submissions/",
            {
                "patient": patient_a.pseudonym,
                "form": "mirror_movements",
                "client_uuid": str(key),
                "data": {"mm_age_months": 60, "mm_present": "1", "wt_grade_left_task": "1"},
            },
            format="json",
        )
    )
    assert response.status_code == 201
    assert Submission.objects.filter(client_uuid=key).exists()
    assert seconds < QUICKLY


def test_a_redcap_export_answers_200_quickly_while_redis_is_down(
    redis_down, coordinator_a, patient_a
):
    token = api_token_for(coordinator_a)
    response, seconds = _timed(
        lambda: Client().post(
            "/redcap/api/", {"token": token, "content": "record", "format": "json"}
        )
    )
    assert response.status_code == 200
    rows = json.loads(b"".join(response.streaming_content))
    assert {row["record_id"] for row in rows} == {patient_a.pseudonym}
    assert seconds < QUICKLY


def test_an_outage_is_one_warning_not_one_per_request(
    redis_down, token_client, registry_forms, caplog, monkeypatch
):
    # Every request tries Redis again, as it does once the retry interval has passed.
    monkeypatch.setattr(cache_outage, "RETRY_AFTER_SECONDS", 0.0)
    with caplog.at_level(logging.WARNING, logger="registry.cache_outage"):
        for _ in range(3):
            assert token_client.get("/api/v1/forms/").status_code == 200
    warnings = [
        record.getMessage() for record in caplog.records if record.name == "registry.cache_outage"
    ]
    assert len(warnings) == 1
    assert "cannot be reached" in warnings[0]
    assert "without being counted against the rate limit" in warnings[0]
    assert f"127.0.0.1:{redis_down}" in warnings[0]


def test_a_hung_redis_costs_one_timeout_not_one_per_request(
    redis_hung, token_client, registry_forms
):
    # Five requests that each waited for Redis would take 2.5 s at least.
    started = time.monotonic()
    for _ in range(5):
        assert token_client.get("/api/v1/forms/").status_code == 200
    assert time.monotonic() - started < QUICKLY


def test_signing_in_and_pages_work_while_redis_is_down(redis_down, coordinator_a, client):
    # django-axes counts failed logins in the database, not in the cache.
    signed_in = client.post(
        "/login/", {"username": coordinator_a.username, "password": DEFAULT_PASSWORD}
    )
    assert signed_in.status_code == 302
    assert client.get("/").status_code == 200


@pytest.fixture
def redis_server_later(settings, tmp_path) -> Iterator[Callable[[], None]]:
    """A port with no Redis yet, and a function that starts one there (stopped at the end)."""
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server")
    port = _free_port()
    _cache_at(settings, port)
    servers: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        servers.append(
            subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(tmp_path),
                ],
                stdout=subprocess.DEVNULL,
            )
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {port}")

    yield start
    for server in servers:
        server.terminate()
        server.wait(timeout=10)


def test_counting_resumes_when_redis_is_back(
    redis_server_later, settings, token_client, registry_forms, monkeypatch
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "2/minute"},
    }
    assert [token_client.get("/api/v1/forms/").status_code for _ in range(3)] == [200] * 3
    redis_server_later()
    monkeypatch.setattr(cache_outage, "RETRY_AFTER_SECONDS", 0.0)
    assert [token_client.get("/api/v1/forms/").status_code for _ in range(3)] == [200, 200, 429]
