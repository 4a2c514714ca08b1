"""Every URL the registry has answers with the security headers, and no page holds inline code.

The walk takes every pattern from the URLconf (a new URL is walked without anyone adding it
here; one whose parameters are unknown fails the test until they are), fills its parameters
with real objects, and requests it as each kind of person. Every answer, whatever its status,
must carry the headers; every HTML page must hold no inline script (a non-executed JSON data
block is allowed), no <style> element, no style attribute and no on* handler, and load scripts
and stylesheets only from the registry itself: the Content Security Policy would refuse them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.template.loader import render_to_string
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from registry.curation.services import do_open_data_query
from registry.jobs.models import JobKind, JobRun, JobStatus
from registry.people.models import ApiToken
from registry.quality.models import QualityIssue
from registry.quality.services import do_run_quality_checks
from registry.statistics.services import do_compute_statistics
from registry.submissions.models import Submission
from tests.factories import api_token_for, registry_form_versions, verify_session
from tests.quality.builders import LESION, clean_patient

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
# A <script> of these types is data the browser never runs: the policy does not apply to it.
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}


def policy_of(header: str) -> dict[str, str]:
    directives = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            directives[name] = " ".join(value.split())
    return directives


def header_problems(response) -> list[str]:
    problems = []
    csp = response.headers.get("Content-Security-Policy")
    if csp is None:
        problems.append("no Content-Security-Policy")
    elif policy_of(csp) != POLICY:
        problems.append(f"Content-Security-Policy is {csp!r}")
    expected = {
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    for name, value in expected.items():
        if response.headers.get(name) != value:
            problems.append(f"{name} is {response.headers.get(name)!r}, not {value!r}")
    permissions = response.headers.get("Permissions-Policy", "")
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        if feature not in permissions:
            problems.append(f"Permissions-Policy lacks {feature}: {permissions!r}")
    return problems


class _InlineCodeFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False
        self._script_body: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, _ in attrs:
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>")
            elif name.startswith("on"):
                self.problems.append(f"{name} handler on <{tag}>")
        for name in ("href", "src", "action", "formaction"):
            if (values.get(name) or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL in {name} of <{tag}>")
        if tag == "style":
            self.problems.append("<style> element")
        elif tag == "script":
            src = values.get("src")
            kind = (values.get("type") or "").strip().lower()
            if src is not None and not src.startswith("/"):
                self.problems.append(f"script from elsewhere: {src}")
            if src is None and kind not in DATA_SCRIPT_TYPES:
                self._in_script = True
                self._script_body = []
        elif tag == "link" and "stylesheet" in (values.get("rel") or "").split():
            href = values.get("href") or ""
            if not href.startswith("/"):
                self.problems.append(f"stylesheet from elsewhere: {href}")

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self._script_body.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in_script:
            self._in_script = False
            body = "".join(self._script_body).strip()
            self.problems.append(f"inline <script>: {body[:60]!r}")


def inline_code_in(html: str) -> list[str]:
    finder = _InlineCodeFinder()
    finder.feed(html)
    finder.close()
    return finder.problems


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        "<script type='module'>go()</script>",
        "<p style='color:red'>x</p>",
        "<button onclick='go()'>x</button>",
        "<svg onload='go()'></svg>",
        "<style>p { color: red }</style>",
        "<a href='javascript:go()'>x</a>",
        "<script src='https://cdn.example.org/x.js'></script>",
        "<link rel='stylesheet' href='https://fonts.example.org/a.css'>",
    ],
)
def test_the_page_check_catches_each_kind_of_inline_code(html):
    assert inline_code_in(f"<!doctype html><html><body>{html}</body></html>")


def test_the_page_check_lets_scripts_files_and_json_data_blocks_through():
    html = (
        '<script src="/static/js/a.js"></script><link rel="stylesheet" href="/static/a.css">'
        '<script type="application/json" id="config">{"a": 1}</script>'
        '<div data-show-if="{&quot;a&quot;: 1}">x</div>'
    )
    assert inline_code_in(html) == []


# --- the walk ---------------------------------------------------------------------------------


@dataclass
class World:
    values: dict[str, str]
    # Per URL prefix, the primary key to use for <pk> and <object_id>.
    keys: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def world(site_a, site_b, coordinator_a, curator, researcher, admin_user) -> World:
    registry_form_versions()
    who = clean_patient(site_a, year_of_birth=2012)
    for year in range(6):
        clean_patient(site_a, year_of_birth=2000 + year)
    odd = clean_patient(site_a, year_of_birth=2011)
    odd.submissions.filter(form__name="dysraphic_lesion").update(
        data={**LESION, "lesion_level": "lumbar"}
    )
    do_run_quality_checks(None, full=True)
    snapshot = do_compute_statistics(None)
    submission = Submission.objects.filter(patient=who).select_related("form").first()
    query = do_open_data_query(curator, submission, next(iter(submission.data)), "Please check.")
    issue = QualityIssue.objects.first()
    # Runs half done, so the progress bar is drawn.
    run, export = (
        JobRun.objects.create(
            kind=kind,
            parameters=parameters,
            requested_by=curator,
            status=JobStatus.RUNNING,
            progress_done=3,
            progress_total=7,
            heartbeat_at=timezone.now(),
            started_at=timezone.now(),
        )
        for kind, parameters in ((JobKind.QUALITY, {}), (JobKind.EXPORT, {"shape": "flat-csv"}))
    )
    api_token_for(coordinator_a)
    token = ApiToken.objects.get(user=coordinator_a)
    Group.objects.create(name="Reviewers")
    AccessAttempt.objects.create(
        username="someone", ip_address="192.0.2.1", user_agent="x", failures_since_start=1
    )
    AccessLog.objects.create(username="someone", ip_address="192.0.2.1", user_agent="x")
    AccessFailureLog.objects.create(username="someone", ip_address="192.0.2.1", user_agent="x")
    assert snapshot.pk and issue is not None
    values = {
        "code": site_a.code,
        "name": submission.form.name,
        "form": submission.form.name,
        "number": str(submission.form_version.number),
        "pseudonym": who.pseudonym,
        "instance": str(submission.instance),
        "shape": "flat-csv",
        "query_id": str(query.pk),
        "id": str(coordinator_a.pk),
        "app_label": "patients",
        "url": "no-such-page/",
        "path": "no-such-endpoint/",
        "content_type_id": str(ContentType.objects.get_for_model(type(who)).pk),
        "object_id": str(who.pk),
    }
    keys = {
        "admin/patients/patient/": str(who.pk),
        "admin/submissions/submission/": str(submission.pk),
        "admin/curation/dataquery/": str(query.pk),
        "api/v1/submissions/": str(submission.pk),
        "api/v1/queries/": str(query.pk),
        "api/v1/exports/jobs/": str(export.pk),
        "api/v1/tokens/": str(token.pk),
        "api/v1/statistics/snapshots/": str(snapshot.pk),
        "api/v1/quality/issues/": str(issue.pk),
        "api/v1/jobs/runs/": str(run.pk),
        "quality/issues/": str(issue.pk),
        "jobs/": str(run.pk),
    }
    return World(values, keys)


def every_route(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    routes = []
    for pattern in (resolver or get_resolver()).url_patterns:
        text = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes.extend(every_route(pattern, text))
        else:
            assert isinstance(pattern, URLPattern)
            routes.append(text)
    return routes


ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
REGEX_PARAMETER = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


def admin_object(route: str) -> str | None:
    """The pk of an object of the model an admin route is about (admin/<app>/<model>/...)."""
    match = re.match(r"admin/(\w+)/(\w+)/", route)
    if not match:
        return None
    try:
        model = apps.get_model(match[1], match[2])
    except LookupError:
        return None
    first = model._default_manager.order_by("pk").first()
    return str(first.pk) if first else None


def url_for(route: str, world: World) -> str:
    def value(name: str) -> str:
        if name in ("pk", "object_id") and not route.startswith("admin/r/"):
            for prefix, key in world.keys.items():
                if route.startswith(prefix):
                    return key
            found = admin_object(route)
            if found is not None:
                return found
        if name not in world.values:
            raise AssertionError(f"{route}: no value for <{name}>; add one to the world fixture")
        return world.values[name]

    url = REGEX_PARAMETER.sub(lambda m: value(m["name"]), route)
    url = ROUTE_PARAMETER.sub(lambda m: value(m["name"]), url)
    url = url.replace("^", "").replace("$", "")
    return "/" + url


@pytest.fixture
def people(coordinator_a, curator, researcher, admin_user) -> dict[str, object]:
    return {
        "anonymous": None,
        "coordinator": coordinator_a,
        "curator": curator,
        "researcher": researcher,
        "administrator": admin_user,
    }


# Answers that are not a pattern of their own: the API docs' start-up script, a 404 page.
EXTRA_URLS = ["/api/docs/?script=", "/no-such-page/", "/patients/NO-SUCH-PATIENT/"]


def test_every_url_answers_with_the_headers_and_no_page_holds_inline_code(world, people):
    routes = every_route()
    assert len(routes) > 100
    problems: list[str] = []
    pages: set[str] = set()
    for role, person in people.items():
        client = Client()
        if person is not None:
            client.force_login(person)
            verify_session(client, person)
        for route, url in [(route, url_for(route, world)) for route in routes] + [
            (url, url) for url in EXTRA_URLS
        ]:
            response = client.get(url)
            problems.extend(
                f"{role} GET {url} ({response.status_code}): {problem}"
                for problem in header_problems(response)
            )
            if response.status_code == 200 and response.headers.get("Content-Type", "").startswith(
                "text/html"
            ):
                pages.add(route)
                problems.extend(
                    f"{role} GET {url}: {problem}"
                    for problem in inline_code_in(response.content.decode())
                )
    assert not problems, "\n".join(problems)
    # The walk saw the pages that matter, as HTML, each as someone allowed to see it.
    for route in (
        "",
        "login/",
        "patients/<str:pseudonym>/",
        "patients/<str:pseudonym>/<str:form>/<int:instance>/",
        "statistics/",
        "statistics/tables/",
        "quality/",
        "quality/issues/<int:pk>/",
        "jobs/",
        "jobs/<int:pk>/",
        "queries/",
        "queries/<int:query_id>/",
        "enrol/",
        "api/docs/",
        "admin/",
        "admin/submissions/submission/",
        "admin/submissions/submission/<path:object_id>/change/",
        "admin/curation/dataquery/<path:object_id>/change/",
        "admin/patients/patient/<path:object_id>/change/",
        "admin/audit/auditevent/",
        "admin/crfs/formversion/",
        "admin/crfs/formversion/publish/",
        "admin/people/user/<path:object_id>/change/",
        "admin/quality/qualityissue/<path:object_id>/change/",
    ):
        assert route in pages, f"{route} was never seen as a page"


def test_the_page_shown_on_a_failed_csrf_check_holds_no_inline_code(coordinator_a):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert header_problems(response) == []
    assert inline_code_in(response.content.decode()) == []


def test_the_page_shown_while_the_database_is_down_holds_no_inline_code():
    assert inline_code_in(render_to_string("503.html", {"retry_after": 5})) == []


def test_static_files_carry_nosniff(client):
    response = client.get("/static/js/data_entry.js")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
