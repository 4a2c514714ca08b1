"""Every URL and every API operation, asked about site A's records by people who may not see
them: a coordinator of site B, a researcher, and someone not signed in.

The URLs come from the URLconf and the operations from the OpenAPI schema, so an endpoint is
walked the day it is added. Each answer must refuse (a redirect to the login page, 401, 403,
404, 405) or carry none of site A's pseudonyms and entered values. A path that names one of
site A's records (its patient, submission, query, finding, export) must be refused outright:
anything else would confirm that the record exists. Someone not signed in may open only the
pages in PUBLIC.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from registry.curation.services import do_open_data_query
from registry.exchange.export_spec import ExportSpec
from registry.exchange.services import do_request_export_job
from registry.patients.models import Patient
from registry.people.models import ApiToken, Role, User
from registry.quality.models import QualityIssue
from tests.exchange.registry_data import enrol, save
from tests.factories import api_token_for, verify_session

pytestmark = pytest.mark.django_db

# Pages anyone may open, each with its reason. Matched against the route's name.
PUBLIC = {
    "login": "where one signs in (the admin's sign-in page has the same name)",
    "logout": "signing out, which asks nothing of a caller not signed in",
    "health": "the load balancer's probe; it says whether the database answers, nothing more",
    "openapi-schema": "the API's description, the same for everyone (docs/api.md)",
    "api-docs": "Swagger UI over that description",
    "jsi18n": "the admin's translations, the same for everyone",
    # The Beacon's descriptions of itself, which aggregators read before they ask (beacon.md).
    **{
        f"beacon-{name}{slash}": "the Beacon's description of itself, no patient data"
        for name in ("info", "service-info", "map", "configuration", "entry-types")
        for slash in ("", "-slash")
    },
    "beacon-root": "the Beacon's description of itself, no patient data",
}

# Site A's values, which must not reach anyone walked here.
SECRET_TEXT = "Brisk reflexes on the left"
QUERY_TEXT = "Please recheck the grade recorded at the visit"
ISSUE_TEXT = "Value far from the other patients of this site"

REFUSED = {401, 403, 404, 405}
# How far above site A's ids the rows made after them (the callers' tokens, what their walked
# POSTs create) are numbered, so that an id of site A's never names a row of the caller's own.
GAP = 1_000_000


def _later_rows_numbered_above(start: int) -> None:
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute("DELETE FROM sqlite_sequence")
            cursor.execute(
                "INSERT INTO sqlite_sequence (name, seq) SELECT name, %s FROM "
                "sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%%'",
                [start],
            )
            return
        # PostgreSQL's sequences outlive the test's transaction: only ever moved forward.
        for model in apps.get_models():
            if model._meta.pk.get_internal_type() not in ("AutoField", "BigAutoField"):
                continue
            cursor.execute(
                "SELECT pg_get_serial_sequence(%s, %s)",
                [model._meta.db_table, model._meta.pk.column],
            )
            (sequence,) = cursor.fetchone()
            cursor.execute(f"SELECT last_value FROM {sequence}")
            (last,) = cursor.fetchone()
            cursor.execute("SELECT setval(%s, %s)", [sequence, max(last, start)])


@dataclass
class SiteA:
    markers: list[str]
    values: dict[str, list[str]]
    """Path parameter -> values naming site A's records (or things every path needs)."""
    record_params: set[str]


@pytest.fixture
def site_a_records(registry_forms: None, site_a: Any, coordinator_a: User, curator: User) -> SiteA:
    first = enrol(coordinator_a, site_a, "A-0001")
    second = enrol(coordinator_a, site_a, "A-0002", sex="male")
    save(
        coordinator_a,
        first,
        "enrollment",
        {
            "enrol_age_months": 30,
            "handedness": "right",
            "consent_registry": "1",
            "consent_recontact": "0",
            "primary_diagnosis": "cmmc",
            "other_diagnoses": "Hydrocephalus, shunted",
        },
    )
    assessment = save(
        coordinator_a,
        first,
        "mirror_movements",
        {
            "mm_age_months": 36,
            "mm_present": "1",
            "wt_grade": "2",
            "body_regions": ["distal"],
            "neuro_other_findings": SECRET_TEXT,
        },
        number=1,
    )
    query = do_open_data_query(curator, assessment, "wt_grade", QUERY_TEXT)
    issue = QualityIssue.objects.create(
        rule="outlier",
        severity="warning",
        site=site_a,
        patient=first,
        submission=assessment,
        field="mm_age_months",
        message=ISSUE_TEXT,
        fingerprint="walk-a-1",
    )
    export = do_request_export_job(coordinator_a, "flat-csv", ExportSpec())
    ids = sorted(
        {
            str(pk)
            for pk in (
                assessment.pk,
                query.pk,
                issue.pk,
                export.pk,
                *ApiToken.objects.filter(user=coordinator_a).values_list("pk", flat=True),
            )
        }
    )
    _later_rows_numbered_above(GAP + max(int(pk) for pk in ids))
    return SiteA(
        markers=[first.pseudonym, second.pseudonym, SECRET_TEXT, QUERY_TEXT, ISSUE_TEXT],
        values={
            "pseudonym": [first.pseudonym],
            "pk": ids,
            "id": ids,
            "query_id": [str(query.pk)],
            "object_id": ids,
            "content_type_id": [str(ContentType.objects.get_for_model(Patient).pk)],
            "instance": ["1"],
            "form": ["mirror_movements"],
            "name": ["mirror_movements"],
            "number": ["1"],
            "code": [site_a.code],
            "shape": ["flat-csv", "long-csv", "ndjson"],
            "path": ["anything/"],
            "app_label": ["patients", "submissions"],
            "url": ["no-such-page/"],
        },
        record_params={"pseudonym", "pk", "id", "query_id", "object_id"},
    )


@dataclass
class Caller:
    name: str
    user: User | None
    session: Client
    api: APIClient

    def keep_signed_in(self) -> None:
        # A walked POST to a sign-out page ends the session; sign in again for the next.
        if self.user is not None and "_auth_user_id" not in self.session.session:
            self.session.force_login(self.user)
            verify_session(self.session, self.user)


@pytest.fixture
def callers(
    site_a_records: SiteA, site_b: Any, coordinator_b: User, researcher: User
) -> list[Caller]:
    found = []
    for name, user in (
        ("coordinator of site B", coordinator_b),
        ("researcher", researcher),
        ("anonymous", None),
    ):
        session, api = Client(), APIClient()
        if user is not None:
            session.force_login(user)
            verify_session(session, user)
            api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
        found.append(Caller(name, user, session, api))
    return found


def test_the_walk_has_someone_of_each_kind(callers: list[Caller]) -> None:
    roles = [caller.user.role if caller.user else None for caller in callers]
    assert roles == [Role.COORDINATOR, Role.RESEARCHER, None]


def test_every_public_page_is_a_route_of_the_urlconf() -> None:
    names = {pattern.name for _, pattern in _patterns(get_resolver().url_patterns)}
    assert set(PUBLIC) <= names


# --- The URLconf -------------------------------------------------------------------------------

_GROUP = re.compile(r"\(\?P<(\w+)>")
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def _patterns(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns, prefix + _plain(str(pattern.pattern)))
        else:
            yield prefix + _plain(str(pattern.pattern)), pattern


def _plain(regex_or_route: str) -> str:
    return regex_or_route.removeprefix("^").removesuffix("$").replace("\\Z", "")


def _fill(template: str, values: dict[str, list[str]]) -> Iterator[tuple[str, set[str]]]:
    """Each path `template` stands for with the parameters given, and the parameters used."""
    match = _GROUP.search(template)
    if match:
        name, start, depth, end = match.group(1), match.start(), 0, match.start()
        for end in range(match.start(), len(template)):
            depth += {"(": 1, ")": -1}.get(template[end], 0)
            if depth == 0:
                break
        before, after = template[:start], template[end + 1 :]
    else:
        found = _CONVERTER.search(template)
        if found is None:
            yield template, set()
            return
        name, before, after = found.group(1), template[: found.start()], template[found.end() :]
    if name not in values:
        raise AssertionError(
            f"the walk has no value for the path parameter {name!r} of "
            f"{template!r}: add one to site_a_records"
        )
    for value in values[name]:
        for rest, used in _fill(after, values):
            yield before + value + rest, used | {name}


def url_paths(values: dict[str, list[str]]) -> Iterator[tuple[str, str, set[str]]]:
    """(route name, path, parameters filled) for every pattern of the URLconf."""
    for template, pattern in _patterns(get_resolver().url_patterns):
        walked = 0
        for path in _fill(template, values):
            try:
                match = resolve("/" + path[0])
            except Resolver404:
                continue
            if match.func is not pattern.callback:
                continue
            walked += 1
            yield pattern.name or template, "/" + path[0], path[1]
        assert walked, f"no value of the walk reaches {template!r}: add one to site_a_records"


# --- The OpenAPI schema ------------------------------------------------------------------------


def api_operations(values: dict[str, list[str]]) -> Iterator[tuple[str, str, set[str]]]:
    """(method, path, parameters filled) for every operation of the OpenAPI schema."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for template, operations in schema["paths"].items():
        route = re.sub(r"\{(\w+)\}", r"<\1>", template)
        for method in operations:
            if method in ("get", "post", "put", "patch", "delete"):
                for path, used in _fill(route, values):
                    yield method, path, used


# --- Judging an answer -------------------------------------------------------------------------


def _body(response: Any) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def judge(
    caller: Caller, name: str, method: str, path: str, used: set[str], response: Any, records: SiteA
) -> str | None:
    """What is wrong with `response`, or None."""
    status = response.status_code
    where = f"{method.upper()} {path} as {caller.name} ({name}): {status}"
    if status in REFUSED:
        return None
    if 300 <= status < 400:
        location = response.get("Location", "")
        if location.startswith(settings.LOGIN_URL) or "/login/" in location:
            return None
        if used & records.record_params:
            return f"{where}, redirected to {location} for a record of site A"
        if any(marker in location for marker in records.markers):
            return f"{where}, redirected to {location}, which names site A's data"
        return None
    if used & records.record_params:
        return f"{where}, not a refusal, for a record of site A"
    if caller.user is None and status < 300 and name not in PUBLIC:
        return f"{where}: someone not signed in got an answer; refuse, or list it in PUBLIC"
    body = _body(response)
    leaked = [marker for marker in records.markers if marker in body]
    if leaked:
        return f"{where}, and the answer shows site A's {leaked}"
    return None


def test_no_page_shows_site_a_to_anyone_else(site_a_records: SiteA, callers: list[Caller]) -> None:
    problems, walked = [], 0
    for name, path, used in url_paths(site_a_records.values):
        for caller in callers:
            for method in ("get", "post"):
                caller.keep_signed_in()
                response = getattr(caller.session, method)(path)
                walked += 1
                problem = judge(caller, name, method, path, used, response, site_a_records)
                if problem:
                    problems.append(problem)
    assert walked > 300
    assert not problems, "\n".join(problems)


def test_no_api_operation_shows_site_a_to_anyone_else(
    site_a_records: SiteA, callers: list[Caller]
) -> None:
    problems, operations = [], set()
    for method, path, used in api_operations(site_a_records.values):
        operations.add((method, path))
        for caller in callers:
            response = (
                getattr(caller.api, method)(path, {}, format="json")
                if method != "get"
                else caller.api.get(path)
            )
            problem = judge(caller, path, method, path, used, response, site_a_records)
            if problem:
                problems.append(problem)
    assert len(operations) > 30
    assert not problems, "\n".join(problems)


def test_the_walk_would_see_a_leak(site_a_records: SiteA, callers: list[Caller]) -> None:
    """The judge itself: site A's own coordinator, walked the same way, is told apart."""
    coordinator_a = User.objects.get(username="coord_a")
    own = Client()
    own.force_login(coordinator_a)
    verify_session(own, coordinator_a)
    pseudonym = site_a_records.values["pseudonym"][0]
    response = own.get(f"/patients/{pseudonym}/")
    assert response.status_code == 200
    as_a = Caller("coordinator of site A", coordinator_a, own, APIClient())
    assert judge(
        as_a,
        "web:patient",
        "get",
        f"/patients/{pseudonym}/",
        {"pseudonym"},
        response,
        site_a_records,
    )
    listing = own.get("/")
    assert "shows site A's" in (
        judge(as_a, "web:dashboard", "get", "/", set(), listing, site_a_records) or ""
    )
