"""The OpenAPI schema states what the API answers: each error, each media type, each null."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from registry.exchange.shapes import SHAPES
from registry.jobs.models import JobKind, JobRun, JobStatus
from registry.quality.models import QualityIssue
from tests.factories import api_token_for

pytestmark = pytest.mark.django_db
METHODS = {"get", "put", "patch", "post", "delete"}


@pytest.fixture
def document() -> dict[str, Any]:
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def content_type(response: Any) -> str:
    return {name.lower(): values for name, values in response.headers.items()}["content-type"][0]


@pytest.fixture
def admin_headers(admin_user: Any) -> dict[str, str]:
    return {"Authorization": f"Token {api_token_for(admin_user)}"}


def test_every_operation_declares_the_errors_it_can_answer(document):
    found = operations(document)
    assert len(found) >= 30 and "/api/schema/" not in document["paths"]
    for path, method, operation in found:
        responses = operation["responses"]
        where = f"{method.upper()} {path}"
        assert {"400", "401", "429", "503"} <= set(responses), where
        for waits in ("429", "503"):
            assert responses[waits]["headers"]["Retry-After"]["required"] is True, where
        if "{" in path:
            assert "404" in responses, where
        if "requestBody" in operation:
            assert {"413", "415"} <= set(responses), where
            assert set(operation["requestBody"]["content"]) == {"application/json"}, where
        if method != "get":
            assert "403" in responses, where
        for status, response in responses.items():
            if status >= "400":
                assert response["content"]["application/json"]["schema"]["$ref"], where


def test_role_limited_reads_declare_403_and_open_reads_do_not(document):
    assert "403" in document["paths"]["/api/v1/quality/issues/"]["get"]["responses"]
    assert "403" in document["paths"]["/api/v1/jobs/runs/"]["get"]["responses"]
    assert "403" in document["paths"]["/api/v1/queries/"]["get"]["responses"]
    assert "403" not in document["paths"]["/api/v1/sites/"]["get"]["responses"]
    assert "403" not in document["paths"]["/api/v1/forms/"]["get"]["responses"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/patients/",
        "/api/v1/patients/{pseudonym}/",
        "/api/v1/submissions/",
        "/api/v1/submissions/{id}/",
        "/api/v1/queries/",
    ],
)
def test_record_level_reads_declare_that_researchers_are_refused(document, path):
    refused = document["paths"][path]["get"]["responses"]["403"]["description"]
    assert "Researchers receive record-level data through releases" in refused
    assert "/api/v1/exports/" in refused


def test_the_export_declares_each_media_type_it_streams(document):
    operation = document["paths"]["/api/v1/exports/{shape}/"]["get"]
    content = operation["responses"]["200"]["content"]
    assert set(content) == {"text/csv", "application/json", "application/x-ndjson"}
    assert content["text/csv"]["schema"] == {"type": "string", "format": "binary"}
    assert content["application/x-ndjson"]["schema"] == {"type": "string", "format": "binary"}
    assert content["application/json"]["schema"]["type"] == "array"
    shape = next(p for p in operation["parameters"] if p["name"] == "shape")
    assert set(shape["schema"]["enum"]) == set(SHAPES)
    job_file = document["paths"]["/api/v1/exports/jobs/{id}/file/"]["get"]["responses"]["200"]
    assert set(job_file["content"]) == set(content)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_each_export_shape_answers_as_the_schema_states(openapi, admin_headers, patient_a, shape):
    operation = openapi["/api/v1/exports/{shape}/"]["GET"]
    response = operation.Case(path_parameters={"shape": shape}, headers=admin_headers).call()
    assert response.status_code == 200
    assert content_type(response).startswith(SHAPES[shape].media_type)
    operation.validate_response(response)


def test_an_export_error_is_json_whichever_media_type_was_asked_for(openapi, admin_headers):
    operation = openapi["/api/v1/exports/{shape}/"]["GET"]
    response = operation.Case(
        path_parameters={"shape": "flat-csv"},
        query={"form": "nope"},
        headers={**admin_headers, "Accept": "text/csv"},
    ).call()
    assert response.status_code == 400
    assert content_type(response) == "application/json"
    assert "form" in response.json()
    operation.validate_response(response)


def test_an_issue_nobody_accepted_validates_against_the_schema(openapi, admin_headers, patient_a):
    issue = QualityIssue.objects.create(
        rule="outlier",
        severity="warning",
        site=patient_a.site,
        patient=patient_a,
        field="mm_age_months",
        message="Rare at this age.",
        fingerprint="c" * 64,
    )
    for path, parameters in [
        ("/api/v1/quality/issues/{id}/", {"id": issue.pk}),
        ("/api/v1/quality/issues/", {}),
    ]:
        operation = openapi[path]["GET"]
        response = operation.Case(path_parameters=parameters, headers=admin_headers).call()
        assert response.status_code == 200
        operation.validate_response(response)
    assert response.json()["results"][0]["accepted_by"] is None


def test_a_run_nobody_requested_validates_against_the_schema(openapi, admin_headers):
    run = JobRun.objects.create(
        kind=JobKind.STATISTICS,
        status=JobStatus.FAILED,
        requested_by=None,
        error="The worker stopped.",
    )
    operation = openapi["/api/v1/jobs/runs/{id}/"]["GET"]
    response = operation.Case(path_parameters={"id": run.pk}, headers=admin_headers).call()
    assert response.status_code == 200 and response.json()["requested_by"] is None
    operation.validate_response(response)


def test_a_wrong_parameter_answers_the_declared_400(openapi, admin_headers):
    operation = openapi["/api/v1/sites/"]["GET"]
    response = operation.Case(query={"page_size": "null"}, headers=admin_headers).call()
    assert response.status_code == 400 and list(response.json()) == ["page_size"]
    operation.validate_response(response)


def test_a_path_that_fits_no_route_is_a_json_404(openapi, admin_headers):
    operation = openapi["/api/v1/submissions/{id}/"]["GET"]
    response = operation.Case(path_parameters={"id": "abc"}, headers=admin_headers).call()
    assert response.status_code == 404
    assert content_type(response) == "application/json"
    operation.validate_response(response)
