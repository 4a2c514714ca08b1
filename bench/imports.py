"""Write throughput on PostgreSQL, each figure beside a raw batched INSERT of the same documents
(psycopg `executemany` into submissions_submission, one transaction), measured in the same run:

- a REDCap-API import (`POST /redcap/api/`, `content=record`, `forceAutoNumber=true`) of about
  10,000 rows: the scale database's records, exported as REDCap flat rows and sent back as new
  records under fresh local IDs at a site of the benchmark's own; target >= 0.25 x the INSERT;
- REST bulk create (`POST /api/v1/submissions/bulk/`) of the same documents in batches of 500,
  for fresh patients; reported beside the INSERT.

Every round writes to fresh patients and deletes what it wrote afterwards, so the rounds are
comparable and the database does not grow. The audit events the import and the bulk create
write stay: the trail is append-only by trigger.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from .database import Scale, prepare
from .figures import Figure

ROUNDS = 5
IMPORT_ROWS = 10_000
REST_BATCH = 500
SITE = "BENCHIMP"
USERNAME = "bench_importer"


def measure(scale: Scale) -> list[Figure]:
    prepare(scale)
    bench = _Bench()
    rows = bench.export_rows(IMPORT_ROWS)
    documents = bench.documents(rows)
    submissions = len(documents)

    rates: dict[str, list[float]] = {"insert": [], "import": [], "rest": []}
    actions: dict[str, Callable[[int], float]] = {
        "insert": lambda n: bench.raw_insert(documents, n),
        "import": lambda n: bench.redcap_import(rows, n, submissions),
        "rest": lambda n: bench.rest_create(documents, n),
    }
    order = list(actions)
    for number in range(ROUNDS):
        # Alternate the order, so that no figure always runs on a warmer (or busier) machine.
        for name in order if number % 2 == 0 else reversed(order):
            seconds = actions[name](number)
            rates[name].append(submissions / seconds)
    insert, imported, rest = (
        statistics.median(rates[name]) for name in ("insert", "import", "rest")
    )

    label = (
        f"{scale.label}: {len(rows):,} REDCap rows, {submissions:,} submissions, {ROUNDS} rounds"
    )
    return [
        Figure(
            "REDCap-API import, forceAutoNumber (new records)",
            "rows/s",
            round(imported),
            round(insert),
            round(imported / insert, 3),
            ">= 0.25 x INSERT",
            imported / insert >= 0.25,
            label,
        ),
        Figure(
            f"REST bulk create, batches of {REST_BATCH}",
            "submissions/s",
            round(rest),
            round(insert),
            round(rest / insert, 3),
            "reported",
            True,
            label,
        ),
    ]


class _Bench:
    """The benchmark's own site, coordinator and token, and what each round writes."""

    def __init__(self) -> None:
        from django.test import Client

        from registry.people.models import Role, Site, User
        from registry.people.services import do_create_api_token, do_create_site, do_create_user

        site = Site.objects.filter(code=SITE).first() or do_create_site(
            None, SITE, "Benchmark imports"
        )
        user = User.objects.filter(username=USERNAME).first() or do_create_user(
            None, USERNAME, Role.COORDINATOR, site_codes=[SITE]
        )
        self.site, self.user = site, user
        self.token = do_create_api_token(None, user, name="bench", expires_in_days=1)[1]
        self.client = Client(SERVER_NAME="localhost")
        self.rest = Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Token {self.token}")
        self._cleanup()

    # -- the documents

    def export_rows(self, wanted: int) -> list[dict[str, Any]]:
        """REDCap flat rows of the scale's first patients, about `wanted` of them."""
        from registry.patients.models import Patient
        from registry.people.models import Role, User
        from registry.people.services import do_create_api_token, do_create_user

        admin = User.objects.filter(username="bench_admin").first() or do_create_user(
            None, "bench_admin", Role.ADMIN
        )
        token = do_create_api_token(None, admin, name="bench", expires_in_days=1)[1]
        pseudonyms = list(
            Patient.objects.exclude(site=self.site)
            .order_by("pk")
            .values_list("pseudonym", flat=True)[: round(wanted / 4)]
        )
        response = self.client.post(
            "/redcap/api/",
            urlencode(
                {
                    "token": token,
                    "content": "record",
                    "format": "json",
                    "type": "flat",
                    "records": ",".join(pseudonyms),
                }
            ),
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200, response.content[:500]
        rows: list[dict[str, Any]] = []
        seen: set[str] = set()
        body = (
            b"".join(response.streaming_content)  # type: ignore[attr-defined]
            if response.streaming
            else response.content
        )
        for row in json.loads(body):
            if row["record_id"] not in seen and len(rows) >= wanted:
                break
            seen.add(row["record_id"])
            row.pop("redcap_data_access_group", None)
            rows.append({key: value for key, value in row.items() if value != ""})
        return rows

    def documents(self, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """What the import stores for `rows`: (patient index, form, version, instance, data,
        status), read back from a first, untimed import."""
        from registry.submissions.models import Submission

        self._post_import(rows, "DOC")
        stored = (
            Submission.objects.filter(patient__site=self.site)
            .order_by("pk")
            .values_list(
                "patient__pseudonym",
                "form_id",
                "form_version_id",
                "form_version__number",
                "form__name",
                "instance",
                "data",
                "status",
            )
        )
        places: dict[str, int] = {}
        documents = [(places.setdefault(row[0], len(places)), *row[1:]) for row in stored]
        self._cleanup()
        return documents

    def _records(self, documents: list[tuple[Any, ...]], round_number: int, kind: str) -> list[Any]:
        from registry.patients.models import Patient

        count = max(document[0] for document in documents) + 1
        return Patient.objects.bulk_create(
            [
                Patient(
                    site=self.site,
                    pseudonym=f"{SITE}-{kind}{round_number}-{index:06d}",
                    sex="female",
                    year_of_birth=2015,
                    created_by=self.user,
                )
                for index in range(count)
            ]
        )

    # -- what is timed

    def raw_insert(self, documents: list[tuple[Any, ...]], round_number: int) -> float:
        import psycopg
        from django.db import connection, transaction
        from django.utils import timezone
        from psycopg.types.json import Jsonb

        patients = self._records(documents, round_number, "RAW")
        now = timezone.now()
        values = [
            (
                patients[index].pk,
                form,
                version,
                instance,
                Jsonb(data),
                status,
                False,
                1,
                now,
                self.user.pk,
                now,
                self.user.pk,
            )
            for index, form, version, _number, _name, instance, data, status in documents
        ]
        sql = (
            "INSERT INTO submissions_submission (patient_id, form_id, form_version_id, "
            "instance, data, status, locked, row_version, created_at, created_by_id, "
            "updated_at, updated_by_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
            "%s)"
        )
        with connection.cursor() as cursor:
            raw = cursor.connection
            start = time.perf_counter()
            # psycopg's own cursor rather than the one Django configured: parameters bound by the
            # server and rows sent in a pipeline (on a connection of the production settings,
            # which prepare statements, the INSERT is also parsed once).
            with transaction.atomic(), psycopg.Cursor(raw) as insert:
                insert.executemany(sql, values)
            seconds = time.perf_counter() - start
        self._cleanup()
        return seconds

    def redcap_import(
        self, rows: list[dict[str, Any]], round_number: int, submissions: int
    ) -> float:
        from registry.submissions.models import Submission

        # The client's encoding of the request is not the server's work: done before timing.
        body = self._import_body(rows, f"R{round_number}")
        start = time.perf_counter()
        self._send_import(body)
        seconds = time.perf_counter() - start
        assert Submission.objects.filter(patient__site=self.site).count() == submissions
        self._cleanup()
        return seconds

    def rest_create(self, documents: list[tuple[Any, ...]], round_number: int) -> float:
        from registry.submissions.models import Submission

        patients = self._records(documents, round_number, "API")
        bodies = [
            {
                "patient": patients[index].pseudonym,
                "form": name,
                "version": number,
                "instance": instance,
                "data": data,
                "status": status,
            }
            for index, _form, _version, number, name, instance, data, status in documents
        ]
        start = time.perf_counter()
        for first in range(0, len(bodies), REST_BATCH):
            response = self.rest.post(
                "/api/v1/submissions/bulk/",
                bodies[first : first + REST_BATCH],
                content_type="application/json",
            )
            assert response.status_code == 201, response.content[:500]
        seconds = time.perf_counter() - start
        assert Submission.objects.filter(patient__site=self.site).count() == len(documents)
        self._cleanup()
        return seconds

    def _post_import(self, rows: list[dict[str, Any]], prefix: str) -> None:
        self._send_import(self._import_body(rows, prefix))

    def _import_body(self, rows: list[dict[str, Any]], prefix: str) -> str:
        # Fresh local IDs make every row a new record, enrolled by the import itself.
        local = {
            record: f"BENCH-{prefix}-{number:06d}"
            for number, record in enumerate(dict.fromkeys(row["record_id"] for row in rows))
        }
        data = json.dumps([{**row, "record_id": local[row["record_id"]]} for row in rows])
        # Form-encoded, as PyCap sends it (a multipart body this large would be refused).
        return urlencode(
            {
                "token": self.token,
                "content": "record",
                "format": "json",
                "type": "flat",
                "data": data,
                "forceAutoNumber": "true",
                "overwriteBehavior": "normal",
                "returnContent": "count",
            }
        )

    def _send_import(self, body: str) -> None:
        response = self.client.post(
            "/redcap/api/", body, content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 200, response.content[:2000]

    def _cleanup(self) -> None:
        from registry.patients.models import Patient
        from registry.submissions.models import Submission

        Submission.objects.filter(patient__site=self.site).delete()
        Patient.objects.filter(site=self.site).delete()
