"""Page render times on PostgreSQL: a form page, and the dashboard of a site with 10,000 patients.

Targets (coordinator web interface): form page p95 < 100 ms; dashboard p95 < 300 ms. Each page
is requested through Django's test client (the whole stack but the network), after warm-up.
"""

from __future__ import annotations

import statistics
import time

from .database import PAGES, Scale, prepare
from .figures import Figure

REQUESTS = 40
WARM_UP = 5


def _percentiles(action: object) -> tuple[float, float]:
    for _ in range(WARM_UP):
        action()  # type: ignore[operator]
    times = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    cut = statistics.quantiles(times, n=20)
    return statistics.median(times), cut[18]


def measure(scale: Scale) -> list[Figure]:
    """Measured on the pages database (one site of 10,000 patients) whatever the scale."""
    prepare(PAGES)
    from django.test import Client
    from django.urls import reverse

    from registry.people.models import Role, Site, User
    from registry.submissions.models import Submission

    site = Site.objects.get(code="SYN01")
    user = User.objects.filter(username="bench_nurse").first()
    if user is None:
        from registry.people.services import do_create_user

        user = do_create_user(None, "bench_nurse", Role.COORDINATOR, site_codes=[site.code])
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    submission = (
        Submission.objects.filter(patient__site=site, form__name="mirror_movements")
        .select_related("patient", "form")
        .order_by("pk")
        .first()
    )
    assert submission is not None
    form_url = reverse(
        "web:submission",
        args=[submission.patient.pseudonym, "mirror_movements", submission.instance],
    )

    def get(url: str) -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    form_p50, form_p95 = _percentiles(lambda: get(form_url))
    dash_p50, dash_p95 = _percentiles(lambda: get("/"))
    return [
        Figure(
            "form page render p50 (mirror_movements)",
            "ms",
            round(form_p50, 1),
            100.0,
            round(form_p50 / 100, 3),
            "reported",
            True,
            "1 form",
        ),
        Figure(
            "form page render p95 (mirror_movements)",
            "ms",
            round(form_p95, 1),
            100.0,
            round(form_p95 / 100, 3),
            "< 100 ms",
            form_p95 < 100,
            "1 form",
        ),
        Figure(
            "dashboard render p50, site of 10,000 patients",
            "ms",
            round(dash_p50, 1),
            300.0,
            round(dash_p50 / 300, 3),
            "reported",
            True,
            "10k patients",
        ),
        Figure(
            "dashboard render p95, site of 10,000 patients",
            "ms",
            round(dash_p95, 1),
            300.0,
            round(dash_p95 / 300, 3),
            "< 300 ms",
            dash_p95 < 300,
            "10k patients",
        ),
    ]
