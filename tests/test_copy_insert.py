"""insert_all and insert_values write what bulk_create would: same values, read back equal."""

import datetime
import uuid
from decimal import Decimal

import pytest
from axes.models import AccessLog
from django.db import connection
from django.utils import timezone

from registry import copy_insert
from registry.audit.models import AuditEvent
from registry.copy_insert import insert_all, insert_values, new_object
from registry.submissions.models import Status, Submission
from tests.factories import PatientFactory, assessment_schema, publish_form

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY is PostgreSQL's"
)

TRICKY_DATA = {
    "age_months": 36,
    "weight": 12.5,
    "mm_present": "1",
    "codes": ["1", "UNK"],
    "findings": 'quotes " and \\ backslash, tab\there, newline\nthere, ünïcödé ✓, \u2028',
    "nested": {"empty": [], "none": None, "flag": True, "big": 2**53 + 1},
}
# Fixed instants in two zones, so that a conversion that loses the zone shows.
SAVED_AT = datetime.datetime(2024, 3, 1, 23, 30, 15, 123456, tzinfo=datetime.UTC)
VERIFIED_AT = datetime.datetime(
    2024, 3, 2, 1, 2, 3, tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=30))
)


@pytest.fixture
def copy_every_batch(monkeypatch):
    """COPY even the small batches of a test."""
    monkeypatch.setattr(copy_insert, "COPY_FROM_ROWS", 1)


def _submissions(coordinator, site, count, data=TRICKY_DATA):
    version = publish_form(assessment_schema(1))
    patients = [PatientFactory(site=site) for _ in range(count)]
    return [
        Submission(
            patient=patient,
            form=version.form,
            form_version=version,
            instance=1,
            data=data,
            status="complete",
            verified_at=VERIFIED_AT,
            verified_by=coordinator,
            client_uuid=uuid.uuid4(),
            created_at=SAVED_AT,
            created_by=coordinator,
            updated_at=SAVED_AT,
            updated_by=coordinator,
        )
        for patient in patients
    ]


def _stored(model, pk):
    return {
        field.attname: value
        for field, value in zip(
            model._meta.concrete_fields,
            model.objects.filter(pk=pk)
            .values_list(*(field.attname for field in model._meta.concrete_fields))
            .get(),
            strict=True,
        )
        if not field.primary_key
    }


@postgresql_only
def test_insert_all_stores_what_bulk_create_stores(copy_every_batch, coordinator_a, site_a):
    by_copy, by_bulk_create = _submissions(coordinator_a, site_a, 2)
    insert_all([by_copy])
    Submission.objects.bulk_create([by_bulk_create])
    copied, created = _stored(Submission, by_copy.pk), _stored(Submission, by_bulk_create.pk)
    for differs in ("patient_id", "client_uuid"):
        assert copied.pop(differs) != created.pop(differs)
    assert copied == created
    assert copied["data"] == TRICKY_DATA
    assert copied["verified_at"] == VERIFIED_AT and copied["created_at"] == SAVED_AT


@postgresql_only
def test_insert_all_gives_the_objects_their_keys(copy_every_batch, coordinator_a, site_a):
    rows = insert_all(_submissions(coordinator_a, site_a, 3))
    assert all(row.pk and not row._state.adding for row in rows)
    assert sorted(Submission.objects.values_list("pk", flat=True)) == sorted(r.pk for r in rows)


@postgresql_only
def test_insert_all_leaves_unusual_values_to_django(copy_every_batch, coordinator_a, site_a):
    naive = datetime.datetime(2024, 3, 1, 12, 0)
    (row,) = _submissions(coordinator_a, site_a, 1, data={"weight": Decimal("12.5")})
    row.data, row.updated_at = "a JSON string", naive
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        insert_all([row])
    stored = Submission.objects.get(pk=row.pk)
    assert stored.data == "a JSON string"
    assert stored.updated_at == timezone.make_aware(naive)


@postgresql_only
def test_insert_all_stores_sql_null_for_none_in_a_json_field(
    copy_every_batch, coordinator_a, site_a
):
    (row,) = _submissions(coordinator_a, site_a, 1)
    row.data = None
    with pytest.raises(Exception, match="null value"):
        # data is NOT NULL: None must not become the JSON document null.
        insert_all([row])


@pytest.mark.parametrize("copy", [False, True], ids=["bulk_create", "copy"])
def test_insert_values_fills_the_defaults(request, copy, coordinator_a, site_a):
    if copy:
        if connection.vendor != "postgresql":
            pytest.skip("COPY is PostgreSQL's")
        request.getfixturevalue("copy_every_batch")
    before = timezone.now()
    insert_values(
        AuditEvent,
        [
            {
                "actor_id": coordinator_a.pk,
                "actor_username": "coord_a",
                "action": "test.bulk",
                "site_id": site_a.pk,
                "changes": {"x": [None, n]},
                "context": {"n": n},
            }
            for n in range(3)
        ],
    )
    events = list(AuditEvent.objects.filter(action="test.bulk").order_by("pk"))
    assert [event.changes for event in events] == [{"x": [None, n]} for n in range(3)]
    assert [event.context for event in events] == [{"n": n} for n in range(3)]
    assert all(
        event.at >= before and event.object_id == "" and event.request_id == "" for event in events
    )


def test_new_object_takes_attribute_values_and_defaults():
    event = new_object(AuditEvent, {"action": "test.new", "site_id": 7, "changes": {"a": 1}})
    assert event.pk is None and event._state.adding
    assert (event.action, event.site_id, event.changes) == ("test.new", 7, {"a": 1})
    assert event.context == {} and event.actor_id is None and event.at is not None


def test_new_object_is_the_instance_the_model_would_build(site_a):
    at = timezone.now()
    values = {"at": at, "action": "test.same", "site_id": site_a.pk, "changes": {"a": [1, 2]}}
    built = new_object(AuditEvent, values)
    expected = AuditEvent(at=at, action="test.same", site=site_a, changes={"a": [1, 2]})
    without_state = {key: value for key, value in vars(expected).items() if key != "_state"}
    assert {key: value for key, value in vars(built).items() if key != "_state"} == without_state
    assert (built._state.adding, built._state.db) == (True, None)
    assert built.site == site_a
    built.save()
    assert AuditEvent.objects.get(pk=built.pk).changes == {"a": [1, 2]}


@postgresql_only
def test_insert_all_converts_values_of_another_type_as_django_would(
    copy_every_batch, coordinator_a, site_a
):
    (row,) = _submissions(coordinator_a, site_a, 1)
    row.instance, row.locked, row.status = "2", 1, Status.COMPLETE
    row.client_uuid = str(row.client_uuid)
    insert_all([row])
    stored = Submission.objects.get(pk=row.pk)
    assert (stored.instance, stored.locked, stored.status) == (2, True, "complete")
    assert str(stored.client_uuid) == row.client_uuid


@postgresql_only
def test_a_table_with_a_column_copy_does_not_write_takes_bulk_create(copy_every_batch):
    # An IP address column: written in binary, psycopg would want an ipaddress object.
    attempts = insert_all(
        [
            AccessLog(
                user_agent="test",
                ip_address="127.0.0.1",
                username="a",
                http_accept="*/*",
                path_info="/",
                attempt_time=SAVED_AT,
            )
            for _ in range(3)
        ]
    )
    assert all(attempt.pk for attempt in attempts)
    assert AccessLog.objects.filter(ip_address="127.0.0.1").count() == 3
