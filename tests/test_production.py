"""The registry as deployed: static files collected by the image's own script, and pages served by
gunicorn with the production settings and the image's gunicorn configuration.

Everything runs in subprocesses on a SQLite file of its own, so this module needs no database
of the suite's and runs the same on SQLite and on the services. `make check-production` (CI)
runs it on its own.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
USERNAME = "nurse"
PASSWORD = "a long enough test passphrase"
HASHED_CSS = re.compile(r'href="(/static/vendor/bootstrap/bootstrap\.min\.[0-9a-f]{12}\.css)"')


def _production_environment(folder: Path) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "STATIC_ROOT"}
    }
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "registry.settings.production",
            "SECRET_KEY": "test-secret-key-for-the-production-check-0123456789abcdef",
            "REGISTRY_PSEUDONYM_KEY": "test-pseudonym-key-for-the-production-check-0123456789",
            "DATABASE_URL": f"sqlite:///{folder / 'registry.sqlite3'}",
            "STATIC_ROOT": str(folder / "static"),
            "ALLOWED_HOSTS": "127.0.0.1",
            # As behind the TLS proxy: gunicorn and the registry both read this list.
            "TRUSTED_PROXIES": "127.0.0.1",
            "WEB_CONCURRENCY": "1",
            "PYTHON": sys.executable,
        }
    )
    return environment


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Browser:
    """Enough of a browser behind the TLS proxy: it says the request came in over HTTPS (as the
    proxy's X-Forwarded-Proto does) and keeps cookies, Secure ones included."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self, method: str, path: str, body: str = "", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        sent = {"X-Forwarded-Proto": "https", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        try:
            connection.request(method, path, body=body.encode(), headers=sent)
            answer = connection.getresponse()
            content = answer.read()
        finally:
            connection.close()
        for line in answer.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(line).items():
                self.cookies[name] = morsel.value
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, content


@dataclass
class Deployment:
    folder: Path
    port: int

    def browser(self) -> Browser:
        return Browser(self.port)


def _run(command: list[str], environment: dict[str, str], stdin: str = "") -> None:
    finished = subprocess.run(
        command, cwd=ROOT, env=environment, input=stdin, capture_output=True, text=True, timeout=120
    )
    assert finished.returncode == 0, f"{' '.join(command)}:\n{finished.stderr[-3000:]}"


def _wait_until_up(server: subprocess.Popen[bytes], browser: Browser) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            if browser.request("GET", "/health/")[0] == 200:
                return
        except OSError:
            pass  # not listening yet, or its worker still booting
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within 60 s")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    folder = tmp_path_factory.mktemp("production")
    environment = _production_environment(folder)
    manage = [sys.executable, str(ROOT / "manage.py")]
    # Collecting and migrating are independent: run them side by side.
    collecting = subprocess.Popen(
        ["sh", str(ROOT / "docker" / "collectstatic.sh")],
        cwd=ROOT,
        env=environment,
        stderr=subprocess.PIPE,
        text=True,
    )
    _run([*manage, "migrate", "--noinput", "--verbosity", "0"], environment)
    _run([*manage, "create_site", "TUMS", "Children's Medical Centre"], environment)
    _run(
        [
            *manage,
            "create_user",
            USERNAME,
            "--role",
            "coordinator",
            "--site",
            "TUMS",
            "--password-stdin",
        ],
        environment,
        stdin=PASSWORD + "\n",
    )
    _, errors = collecting.communicate(timeout=120)
    assert collecting.returncode == 0, f"docker/collectstatic.sh failed:\n{errors[-3000:]}"

    port = _free_port()
    log = folder / "gunicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "registry.wsgi:application",
                "--config",
                str(ROOT / "docker" / "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{port}",
            ],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_up(server, Browser(port))
        yield Deployment(folder, port)
    except BaseException:
        sys.stderr.write(log.read_text(errors="replace")[-4000:])
        raise
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_collectstatic_writes_the_manifest_of_every_static_file(deployment):
    manifest = json.loads((deployment.folder / "static" / "staticfiles.json").read_text())
    for name in (
        "vendor/bootstrap/bootstrap.min.css",
        "vendor/bootstrap/bootstrap.bundle.min.js",
        "css/registry.css",
        "js/data_entry.js",
        "formengine/logic.js",
        "js/progress.js",
        "css/admin.css",
        "css/standalone.css",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
    ):
        assert name in manifest["paths"], name


def test_login_page_answers_200_and_names_hashed_static_files_that_are_served(deployment):
    browser = deployment.browser()
    status, _, page = browser.request("GET", "/login/")
    assert status == 200
    found = HASHED_CSS.search(page.decode())
    assert found, "the login page names no hashed Bootstrap stylesheet"

    status, headers, stylesheet = browser.request("GET", found.group(1))
    assert status == 200
    assert headers["content-type"].startswith("text/css")
    assert "max-age=315360000" in headers["cache-control"]  # whitenoise's for hashed names
    assert b"Bootstrap" in stylesheet[:200]


def test_pages_carry_hsts_and_the_security_headers_in_production(deployment):
    status, headers, _ = deployment.browser().request("GET", "/login/")
    assert status == 200
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert "camera=()" in headers["permissions-policy"]


def test_a_signed_in_coordinator_gets_the_dashboard(deployment):
    browser = deployment.browser()
    browser.request("GET", "/login/")
    origin = f"https://127.0.0.1:{deployment.port}"
    status, headers, _ = browser.request(
        "POST",
        "/login/",
        body=f"username={USERNAME}&password={PASSWORD.replace(' ', '+')}"
        f"&csrfmiddlewaretoken={browser.cookies['csrftoken']}",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": origin,
            "Referer": f"{origin}/login/",
        },
    )
    assert status == 302, "the log-in was refused"
    assert "sessionid" in browser.cookies

    status, _, page = browser.request("GET", headers["location"])
    assert status == 200
    assert b"TUMS" in page
    assert HASHED_CSS.search(page.decode())


def test_a_failed_login_through_the_proxy_is_recorded_with_the_forwarded_address(deployment):
    browser = deployment.browser()
    browser.request("GET", "/login/")
    origin = f"https://127.0.0.1:{deployment.port}"
    status, _, _ = browser.request(
        "POST",
        "/login/",
        body=f"username=someone&password=wrong&csrfmiddlewaretoken={browser.cookies['csrftoken']}",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": origin,
            "Referer": f"{origin}/login/",
            "X-Forwarded-For": "203.0.113.7",
        },
    )
    assert status == 200
    with sqlite3.connect(deployment.folder / "registry.sqlite3") as database:
        addresses = database.execute(
            "SELECT ip_address FROM axes_accessattempt WHERE username = 'someone'"
        ).fetchall()
    assert addresses == [("203.0.113.7",)]
