"""The OpenAPI schema is a contract the API keeps: schemathesis over it, in-process.

Every operation gets the coverage phase's boundary cases and a bounded number of generated
requests, valid and invalid, with an administrator's token, on records that exist (the path
identifiers name them). Every check is on: no 5xx; every status, media type, body and header
as the schema states them; every invalid request refused with a 4xx; every valid one accepted,
but for the rules the schema cannot state (named in DOMAIN_RULES below). Any failure fails the
test, with the request to reproduce it.

The seed is fixed and the run bounded: EXAMPLES_PER_OPERATION generated requests per operation
(besides the coverage phase's) and TIME_BUDGET seconds in all, after which the operations left
are skipped (as `st run --max-time` stops). About a minute on two cores.

By hand, against a running server (`make run`), with more examples: `st run
http://127.0.0.1:8000/api/schema/ -H "Authorization: Token $TOKEN" --checks <CHECKS below>
--exclude-method DELETE --seed 23 -n 100`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from registry.curation.services import do_open_data_query
from registry.jobs.models import JobKind, JobRun, JobStatus
from registry.patients.models import Patient
from registry.people.models import ApiToken, User
from registry.quality.models import IssueStatus, QualityIssue
from registry.statistics.services import do_compute_statistics
from registry.submissions.models import Submission
from registry.wsgi import application
from tests.factories import api_token_for

pytestmark = pytest.mark.django_db

SEED = 23
EXAMPLES_PER_OPERATION = 10
TIME_BUDGET = 150.0
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
]
# What positive_data_acceptance takes from a valid request by default.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]

# Valid by the schema, refused by rules it cannot state: each form's own fields and rules, the
# registry's forms and fields by name, a year of birth within the last 89 years, a reason of a
# few words, and (for changes) the row version of If-Match being the current one.
DOMAIN_RULES = {
    "GET /api/v1/exports/{shape}/": ["400"],
    "POST /api/v1/exports/jobs/": ["400"],
    "POST /api/v1/patients/": ["400"],
    "POST /api/v1/submissions/": ["400"],
    "POST /api/v1/submissions/bulk/": ["400", "423"],
    "PUT /api/v1/submissions/{id}/": ["400", "412", "423"],
    "PATCH /api/v1/submissions/{id}/": ["400", "412", "423"],
    "POST /api/v1/quality/issues/{id}/accept/": ["400"],
}

# Revoking the token these requests carry would leave nothing to test; starting jobs is for the
# job tests (tests/jobs).
LEFT_OUT = [
    ("DELETE", "/api/v1/tokens/{id}/"),
    ("POST", "/api/v1/jobs/runs/"),
    ("POST", "/api/v1/jobs/runs/{id}/rerun/"),
]


@pytest.fixture
def generous_rate(settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "100000/minute"},
    }


@pytest.fixture
def records(
    admin_user: User,
    curator: User,
    patient_a: Patient,
    patient_b: Patient,
    settings: Any,
    tmp_path: Path,
) -> dict[str, Any]:
    """One of everything the API shows, so that the identifiers in paths name real records:
    an open quality issue (nobody accepted it) and an accepted one, a data query, a
    statistics snapshot, a finished export job with its file, and a failed nightly run."""
    submission = Submission.objects.filter(patient=patient_a).order_by("pk").first()
    assert submission is not None
    issue = QualityIssue.objects.create(
        rule="outlier",
        severity="warning",
        site=patient_a.site,
        patient=patient_a,
        submission=submission,
        field="enrol_age_months",
        message="Rare at this age.",
        fingerprint="a" * 64,
    )
    QualityIssue.objects.create(
        rule="outlier",
        severity="info",
        site=patient_b.site,
        patient=patient_b,
        field="",
        message="Checked.",
        fingerprint="b" * 64,
        status=IssueStatus.ACCEPTED,
        accepted_by=curator,
        accepted_reason="Confirmed on the video.",
    )
    query = do_open_data_query(curator, submission, "enrol_age_months", "Months or years?")
    snapshot = do_compute_statistics(None)
    settings.REGISTRY_EXPORT_DIR = tmp_path
    export_file = tmp_path / "registry-flat-csv.csv"
    export_file.write_text("record_id,redcap_data_access_group\nSITEA-1,sitea\n")
    export = JobRun.objects.create(
        kind=JobKind.EXPORT,
        status=JobStatus.SUCCEEDED,
        requested_by=admin_user,
        parameters={"shape": "flat-csv", "spec": {}},
        result_file=str(export_file),
        progress_done=1,
        progress_total=1,
    )
    nightly = JobRun.objects.create(
        kind=JobKind.STATISTICS,
        status=JobStatus.FAILED,
        requested_by=None,
        error="The worker stopped.",
    )
    token = api_token_for(admin_user)
    return {
        "token": token,
        "submission": submission,
        "issue": issue,
        "query": query,
        "snapshot": snapshot,
        "export": export,
        "run": nightly,
        "patient": patient_a,
        "api_token": ApiToken.objects.filter(user=admin_user).latest("pk"),
    }


def contract_config(records: dict[str, Any]) -> SchemathesisConfig:
    def on(label: str, **options: Any) -> dict[str, Any]:
        return {"include-name": label, **options}

    def path_ids(label: str, **values: Any) -> dict[str, Any]:
        return on(label, parameters={f"path.{name}": value for name, value in values.items()})

    submission = records["submission"].pk
    operations = [
        *(
            on(
                label,
                checks={"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, *statuses]}},
            )
            for label, statuses in DOMAIN_RULES.items()
        ),
        *(on(f"{method} {path}", enabled=False) for method, path in LEFT_OUT),
        path_ids("GET /api/v1/submissions/{id}/", id=submission),
        path_ids("PUT /api/v1/submissions/{id}/", id=submission),
        path_ids("PATCH /api/v1/submissions/{id}/", id=submission),
        path_ids("GET /api/v1/patients/{pseudonym}/", pseudonym=records["patient"].pseudonym),
        path_ids("GET /api/v1/sites/{code}/", code=records["patient"].site.code),
        path_ids("GET /api/v1/forms/{name}/", name="mirror_movements"),
        path_ids("GET /api/v1/forms/{name}/versions/", name="mirror_movements"),
        path_ids("GET /api/v1/forms/{name}/versions/{number}/", name="mirror_movements", number=2),
        path_ids("GET /api/v1/queries/{id}/", id=records["query"].pk),
        path_ids("GET /api/v1/quality/issues/{id}/", id=records["issue"].pk),
        path_ids("POST /api/v1/quality/issues/{id}/accept/", id=records["issue"].pk),
        path_ids("GET /api/v1/statistics/snapshots/{id}/", id=records["snapshot"].pk),
        path_ids("GET /api/v1/exports/jobs/{id}/", id=records["export"].pk),
        path_ids("GET /api/v1/exports/jobs/{id}/file/", id=records["export"].pk),
        path_ids("GET /api/v1/jobs/runs/{id}/", id=records["run"].pk),
        path_ids("GET /api/v1/tokens/{id}/", id=records["api_token"].pk),
    ]
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            # Hypothesis' health checks judge the generating, not the API: on a busy machine
            # "too slow" would fail a run that found nothing.
            "suppress-health-check": ["all"],
            "headers": {"Authorization": f"Token {records['token']}"},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            "generation": {
                "max-examples": EXAMPLES_PER_OPERATION,
                # Runs repeat: no examples remembered from an earlier run.
                "database": "none",
                # A NUL anywhere is refused at the door (400, tests/web/test_nul_characters.py):
                # generated text without one reaches the views.
                "allow-x00": False,
                # The token above authenticates; no generated session cookie beside it.
                "with-security-parameters": False,
            },
            "operations": operations,
        }
    )


@pytest.fixture
def api_schema(records: dict[str, Any], generous_rate: None, connection_kept_open: None) -> Any:
    return schemathesis.openapi.from_wsgi(
        "/api/schema/", application, config=contract_config(records)
    )


contract = schemathesis.pytest.from_fixture("api_schema")
# When the run's time is spent; set by its first case.
_deadline: dict[str, float] = {}


@contract.parametrize()
def test_every_answer_is_the_one_the_schema_states(case: schemathesis.Case) -> None:
    deadline = _deadline.setdefault("at", time.monotonic() + TIME_BUDGET)
    if time.monotonic() > deadline:
        # Reported as a skipped subtest: the operations left untested show in the summary.
        pytest.skip(f"the contract check's {TIME_BUDGET:.0f} s were spent")
    case.call_and_validate()
