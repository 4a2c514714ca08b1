"""The scope that every query of patient data runs in (registry/people/scoping.py)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.curation.models import DataQuery, DataQueryMessage
from registry.curation.services import do_open_data_query
from registry.jobs.models import JobKind, JobRun
from registry.jobs.services import execute_run
from registry.patients.models import Patient
from registry.people import scoping
from registry.people.scoping import ScopeError, scoped_to, unscoped
from registry.quality.models import QualityIssue
from registry.submissions.models import Submission
from tests.exchange.registry_data import enrol, save

PATIENT_DATA = [Patient, Submission, DataQuery, DataQueryMessage, QualityIssue]


@pytest.fixture
def no_scope():
    """Leave the tests' own unscoped context, as code with no request, job or command is."""
    token = scoping._active.set(None)
    yield
    scoping._active.reset(token)


@pytest.fixture
def records(registry_forms, site_a, site_b, coordinator_a, coordinator_b, curator):
    """A patient at each site, each with a submission, a data query and a finding."""
    made = {}
    for code, site, coordinator in (("A", site_a, coordinator_a), ("B", site_b, coordinator_b)):
        patient = enrol(coordinator, site, f"{code}-0001")
        submission = save(
            coordinator,
            patient,
            "mirror_movements",
            {"mm_age_months": 36, "mm_present": "0"},
            number=2,
        )
        query = do_open_data_query(curator, submission, "mm_age_months", "Please check.")
        QualityIssue.objects.create(
            rule="outlier",
            severity="warning",
            site=site,
            patient=patient,
            submission=submission,
            message="Far from the others.",
            fingerprint=f"f-{code}",
        )
        made[code] = patient, submission, query
    return made


@pytest.mark.django_db
@pytest.mark.parametrize("model", PATIENT_DATA, ids=lambda model: model.__name__)
def test_a_query_of_patient_data_outside_any_scope_raises(records, no_scope, model):
    with pytest.raises(ScopeError, match=f"{model.__name__} was queried outside any scope"):
        model.objects.count()


@pytest.mark.django_db
def test_every_way_of_running_a_query_outside_any_scope_raises(records, no_scope):
    submission = records["A"][1]
    for run in (
        lambda: list(Patient.objects.all()),
        lambda: Patient.objects.exists(),
        lambda: Submission.objects.filter(pk=submission.pk).update(locked=True),
        lambda: Submission.objects.get(pk=submission.pk),
        lambda: list(submission.patient.submissions.all()),
        lambda: Submission.objects.values_list("pk").first(),
        lambda: Patient._base_manager.filter(
            pk__in=Submission.objects.values("patient_id")
        ).count(),
    ):
        with pytest.raises(ScopeError):
            run()


def test_a_query_may_be_built_outside_any_scope_as_libraries_do_on_import(no_scope):
    """django-filter reads `_default_manager.all().query` while the URLconf loads."""
    assert "patients_patient" in str(Patient._default_manager.all().query.get_meta().db_table)


@pytest.mark.django_db
@pytest.mark.parametrize("model", PATIENT_DATA, ids=lambda model: model.__name__)
def test_a_coordinator_scope_shows_only_their_sites_rows(records, no_scope, coordinator_b, model):
    with unscoped("the test's count"):
        everything = model.objects.count()
    with scoped_to(coordinator_b):
        mine = model.objects.count()
    assert everything == 2 * mine and mine > 0


@pytest.mark.django_db
def test_the_scope_holds_however_the_query_starts(records, no_scope, site_a, coordinator_b):
    patient_a, submission_a, query_a = records["A"]
    with scoped_to(coordinator_b):
        assert not Patient.objects.filter(pseudonym=patient_a.pseudonym).exists()
        assert not Submission.objects.filter(pk=submission_a.pk).exists()
        assert list(site_a.patients.all()) == []
        assert list(patient_a.submissions.all()) == []
        assert list(submission_a.queries.all()) == []
        assert list(query_a.messages.all()) == []
        assert Patient.objects.filter(site=site_a).count() == 0


@pytest.mark.django_db
def test_people_who_see_every_site_see_every_row_and_no_one_sees_none(
    records, no_scope, curator, researcher, admin_user
):
    for person in (curator, researcher, admin_user):
        with scoped_to(person):
            assert Patient.objects.count() == 2
            assert Submission.objects.count() == 2
    with scoped_to(None):
        assert Patient.objects.count() == 0
        assert Submission.objects.count() == 0


@pytest.mark.django_db
def test_an_inactive_coordinator_sees_nothing(records, no_scope, coordinator_a):
    coordinator_a.is_active = False
    with scoped_to(coordinator_a):
        assert Patient.objects.count() == 0


@pytest.mark.django_db
def test_djangos_own_lookups_keep_working_without_a_scope(records, no_scope):
    """The base manager stays plain: a submission's patient, saving and reloading."""
    with unscoped("fetch"):
        submission = Submission.objects.select_related(None).get(pk=records["A"][1].pk)
    assert submission.patient.pseudonym == records["A"][0].pseudonym
    submission.refresh_from_db()
    submission.save(update_fields=["updated_at"])


@pytest.mark.django_db
def test_the_scope_locks_no_row_it_does_not_name(records, no_scope, coordinator_b):
    """The site filter is a subquery, not a join: `select_for_update()` on PostgreSQL would
    otherwise lock the patient rows too."""
    with scoped_to(coordinator_b), CaptureQueriesContext(connection) as queries:
        list(Submission.objects.filter(pk__gt=0).order_by().values_list("pk", flat=True))
    (sql,) = [query["sql"] for query in queries.captured_queries]
    assert "JOIN" not in sql.upper()
    assert "patients_patient" in sql and "people_sitemembership" in sql


def test_unscoped_needs_a_reason():
    with pytest.raises(ValueError, match="Say why"):
        unscoped("")


@pytest.mark.django_db
def test_a_job_reads_what_the_person_who_asked_for_it_may_read(records, no_scope, coordinator_b):
    seen = {}

    def work(run):
        seen[run.pk] = sorted(Patient.objects.values_list("pseudonym", flat=True))
        return {}

    own = JobRun.objects.create(kind=JobKind.EXPORT, requested_by=coordinator_b)
    scheduled = JobRun.objects.create(kind=JobKind.QUALITY)
    execute_run(own.pk, work)
    execute_run(scheduled.pk, work)
    assert seen[own.pk] == [records["B"][0].pseudonym]
    assert seen[scheduled.pk] == sorted(patient.pseudonym for patient, _, _ in records.values())


@pytest.mark.django_db
def test_a_request_runs_in_its_persons_scope(client, records, coordinator_b):
    client.force_login(coordinator_b)
    assert client.get(f"/patients/{records['A'][0].pseudonym}/").status_code == 404
    assert client.get(f"/patients/{records['B'][0].pseudonym}/").status_code == 200
