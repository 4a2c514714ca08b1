"""Beacon query times on PostgreSQL: `POST /api/beacon/v2/individuals` at count granularity.

Target (docs/beacon.md): p95 < 200 ms at 1,000,000 submissions. The queries are the kinds a
network asks, taken in turn: one HPO term, a general HPO term (its descendants), an ORPHA code,
sex with an age range, a phenotype with sex and age, and no filter. Each goes through Django's
test client with a researcher's API token (the whole stack but the network), after warm-up;
the Beacon's rate limit is lifted for the run, the API's own counting stays on.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from .database import Scale, prepare
from .figures import Figure

ROUNDS = 10
WARM_UP = 1
TARGET_MS = 200.0

QUERIES: list[list[dict[str, Any]]] = [
    [{"id": "HP:0002475"}],  # Myelomeningocele
    [{"id": "HP:0045005"}],  # Neural tube defect, with its descendants
    [{"id": "ORPHA:478"}],  # Kallmann syndrome
    [{"id": "NCIT:C16576"}, {"id": "age", "operator": ">=", "value": "P10Y"}],
    [
        {"id": "HP:0002308"},  # Chiari malformation
        {"id": "NCIT:C20197"},
        {"id": "age", "operator": "<", "value": "P5Y"},
    ],
    [],
]


def measure(scale: Scale) -> list[Figure]:
    submissions = prepare(scale)
    from django.conf import settings
    from django.test import Client, override_settings

    from registry.people.models import ApiToken, Role, User
    from registry.people.services import do_create_api_token, do_create_user, do_revoke_api_token

    user = User.objects.filter(username="bench_beacon").first() or do_create_user(
        None, "bench_beacon", Role.RESEARCHER
    )
    api_token, token = do_create_api_token(None, user, name="Beacon benchmark", expires_in_days=1)
    rates = {"api": "100000/minute", "beacon": "100000/minute"}
    client = Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Token {token}")

    def ask(filters: list[dict[str, Any]]) -> None:
        response = client.post(
            "/api/beacon/v2/individuals",
            {"query": {"filters": filters, "requestedGranularity": "count"}},
            content_type="application/json",
        )
        assert response.status_code == 200, (filters, response.status_code, response.content)

    times: list[float] = []
    try:
        with override_settings(
            REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
        ):
            for _ in range(WARM_UP):
                for filters in QUERIES:
                    ask(filters)
            for _ in range(ROUNDS):
                for filters in QUERIES:
                    start = time.perf_counter()
                    ask(filters)
                    times.append((time.perf_counter() - start) * 1000)
    finally:
        do_revoke_api_token(None, ApiToken.objects.get(pk=api_token.pk))
    p50 = statistics.median(times)
    p95 = statistics.quantiles(times, n=20)[18]
    at = f"{submissions:,} submissions"
    return [
        Figure(
            "Beacon query p50 (individuals, count)",
            "ms",
            round(p50, 1),
            TARGET_MS,
            round(p50 / TARGET_MS, 3),
            "reported",
            True,
            at,
        ),
        Figure(
            "Beacon query p95 (individuals, count)",
            "ms",
            round(p95, 1),
            TARGET_MS,
            round(p95 / TARGET_MS, 3),
            "< 200 ms",
            p95 < TARGET_MS,
            at,
        ),
    ]
