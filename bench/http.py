"""Single-submission POST over HTTP: gunicorn on loopback, driven by wrk, beside a trivial view.

gunicorn runs with the image's own configuration (docker/gunicorn.conf.py: workers, access log)
and production settings (bench/settings.py adds only the trivial view's URL) against the scale's
PostgreSQL database, with Redis as the cache, as in docker/compose.yaml (BENCH_REDIS_URL, by
default database 14 of the local server). wrk keeps CONNECTIONS requests in flight:

- `POST /api/v1/submissions/` with a coordinator's API token, a new follow-up visit each time
  (bench/post_submission.lua), spread over up to PATIENTS patients of site SYN01, each with a
  client_uuid of its own;
- the same request to a trivial view that only answers a tiny JSON body: the server's limit.

After a warm-up of each, ROUNDS rounds of SECONDS seconds, the two side by side; figures are
medians. Targets: >= 300 requests/s and p99 < 100 ms. A round counts only if every answer was
2xx and the database holds a new submission for each 201.

The throttle stays on: the token's rate is set per second (API_RATE_LIMIT) well above what the
server can do, so it never refuses a request, while its sliding window (one second) holds no
more entries than a busy token's does at the production limit of 600 a minute.

Each run adds its POSTs (a few thousand follow-up visits, and their audit events) to the
scale's database, and they stay there: follow-up is repeatable, so the visits only append
instances, and the other suites report the count they actually find.
"""

from __future__ import annotations

import json
import os
import runpy
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .database import Scale, database_url, prepare
from .figures import Figure

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).resolve().parent / "post_submission.lua"
GUNICORN_CONFIG = ROOT / "docker" / "gunicorn.conf.py"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
# Several requests waiting for each worker, as behind a proxy with more clients than workers.
CONNECTIONS = 8
ROUNDS = 3
SECONDS = 10
WARM_UP_SECONDS = 3
PATIENTS = 2000
# Never reached at this machine's speed (see the module docstring).
RATE = "5000/second"
POST_PATH = "/api/v1/submissions/"
TRIVIAL_PATH = "/bench/trivial/"


def measure(scale: Scale) -> list[Figure]:
    prepare(scale)
    from registry.people.models import ApiToken, Role, Site, User
    from registry.people.services import do_create_api_token, do_create_user, do_revoke_api_token

    site = Site.objects.get(code="SYN01")
    user = User.objects.filter(username="bench_api").first() or do_create_user(
        None, "bench_api", Role.COORDINATOR, site_codes=[site.code]
    )
    # A token is shown only once, so each run makes its own and revokes it at the end.
    api_token, token = do_create_api_token(None, user, name="HTTP benchmark", expires_in_days=1)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bench-http-") as folder,
            _gunicorn(scale, Path(folder)) as base_url,
        ):
            patients = Path(folder) / "patients.txt"
            patients.write_text("\n".join(_pseudonyms(site)) + "\n", encoding="utf-8")
            figures = _measure(base_url, patients, token, user, scale)
    finally:
        do_revoke_api_token(None, ApiToken.objects.get(pk=api_token.pk))
    return figures


def _measure(base_url: str, patients: Path, token: str, user: Any, scale: Scale) -> list[Figure]:
    from registry.submissions.models import Submission

    def run(path: str, seconds: int) -> dict[str, Any]:
        before = Submission.objects.filter(created_by=user).count()
        result = _wrk(base_url + path, seconds, patients, token)
        if result["failed"] or result["socket_errors"] or not result["succeeded"]:
            raise RuntimeError(
                f"{path}: {result['failed']} answers were not 2xx, "
                f"{result['socket_errors']} socket errors; the first: "
                f"{result['failure'] or '(none)'}"
            )
        if path == POST_PATH:
            # Requests still in flight when wrk stops finish afterwards, uncounted by wrk.
            time.sleep(1)
            created = Submission.objects.filter(created_by=user).count() - before
            if not result["succeeded"] <= created <= result["succeeded"] + CONNECTIONS:
                raise RuntimeError(
                    f"{result['succeeded']} POSTs answered 2xx but {created} "
                    "submissions were created"
                )
        return result

    # Figures on a shared machine mean little without how busy it was.
    load = os.getloadavg()[0]
    run(TRIVIAL_PATH, WARM_UP_SECONDS)
    run(POST_PATH, WARM_UP_SECONDS)
    posts, trivials = [], []
    for _ in range(ROUNDS):
        trivials.append(run(TRIVIAL_PATH, SECONDS))
        posts.append(run(POST_PATH, SECONDS))

    def median(results: list[dict[str, Any]], key: str) -> float:
        return statistics.median(
            r["succeeded"] / r["seconds"] if key == "rate" else r[key] for r in results
        )

    rate, limit = median(posts, "rate"), median(trivials, "rate")
    workers = runpy.run_path(str(GUNICORN_CONFIG))["workers"]
    label = (
        f"{scale.label}, gunicorn {workers} workers, {CONNECTIONS} connections, load "
        f"{load:.1f} before; trivial view p99 {median(trivials, 'p99_ms'):.1f} ms"
    )
    figures = [
        Figure(
            "single submission POST over HTTP",
            "requests/s",
            round(rate),
            round(limit),
            round(rate / limit, 3),
            ">= 300/s",
            rate >= 300,
            label,
        ),
    ]
    for name, target in (("p50", ""), ("p95", ""), ("p99", "< 100 ms")):
        value = median(posts, f"{name}_ms")
        figures.append(
            Figure(
                f"single submission POST over HTTP, latency {name}",
                "ms",
                round(value, 1),
                100.0,
                round(value / 100, 3),
                target or "reported",
                value < 100 if target else True,
                label,
            )
        )
    return figures


def _pseudonyms(site: Any) -> list[str]:
    from registry.patients.models import Patient

    return list(
        Patient.objects.filter(site=site)
        .order_by("pk")
        .values_list("pseudonym", flat=True)[:PATIENTS]
    )


def _wrk(url: str, seconds: int, patients: Path, token: str) -> dict[str, Any]:
    command = [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(CONNECTIONS),
        "--duration",
        f"{seconds}s",
        "--timeout",
        "10s",
        "--script",
        str(SCRIPT),
        url,
        "--",
        str(patients),
        token,
        secrets.token_hex(4),
    ]
    try:
        finished = subprocess.run(
            command, capture_output=True, text=True, check=True, timeout=seconds + 60
        )
    except FileNotFoundError as error:
        raise RuntimeError(
            "wrk is not installed: apt-get install -y wrk (make bench installs it)"
        ) from error
    # wrk prints its own summary first; the script's JSON line is the last.
    result: dict[str, Any] = json.loads(finished.stdout.strip().splitlines()[-1])
    return result


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def _gunicorn(scale: Scale, folder: Path) -> Iterator[str]:
    """gunicorn serving the registry on a free loopback port; stopped on the way out."""
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    import redis

    try:
        redis.Redis.from_url(redis_url).ping()
    except redis.RedisError as error:
        raise RuntimeError(
            f"Redis is not reachable at {redis_url}; start it or set BENCH_REDIS_URL"
        ) from error
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url(scale.database),
        "REDIS_URL": redis_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "REGISTRY_PSEUDONYM_KEY": secrets.token_urlsafe(48),
        "API_RATE_LIMIT": RATE,
        "DEBUG": "false",
    }
    log = folder / "gunicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "registry.wsgi:application",
                "--config",
                str(GUNICORN_CONFIG),
                "--bind",
                f"127.0.0.1:{port}",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(server, base_url + TRIVIAL_PATH, log)
        yield base_url
    except BaseException:
        sys.stderr.write(log.read_text(errors="replace")[-4000:])
        raise
    finally:
        _stop(server)


def _wait_until_up(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            # Not listening yet, or a worker still booting (URLError and timeouts are OSErrors).
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within 60 s")


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        # The master and its workers share the session started for them, and nothing else.
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
