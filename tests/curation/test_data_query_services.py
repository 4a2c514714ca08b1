"""Data queries: curators ask about a field, the site's coordinators answer, curators close."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from registry.audit.models import AuditEvent
from registry.curation.models import DataQuery, MessageKind, QueryStatus
from registry.curation.selectors import visible_data_queries
from registry.curation.services import (
    do_answer_data_query,
    do_close_data_query,
    do_open_data_query,
    do_reopen_data_query,
)
from tests.factories import PatientFactory, assessment_schema, enter_submission, publish_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def submission(site_a, coordinator_a):
    version = publish_form(assessment_schema())
    patient = PatientFactory(site=site_a, pseudonym="SITEA-Q0001")
    return enter_submission(
        coordinator_a, patient, version, {"age_months": "36", "mm_present": "1", "wt_grade": "2"}
    )


@pytest.fixture
def open_query(curator, submission):
    return do_open_data_query(
        curator, submission, "wt_grade", "Grade 2 at 3 years: please confirm from the clinic notes."
    )


def test_a_curator_opens_a_query_with_its_question_and_an_audit_event(curator, open_query):
    assert open_query.status == QueryStatus.OPEN and open_query.field == "wt_grade"
    message = open_query.messages.get()
    assert message.kind == MessageKind.QUESTION and message.author == curator
    event = AuditEvent.objects.get(action="data_query.open")
    assert event.changes == {"status": [None, "open"]}
    assert event.context["field"] == "wt_grade" and event.site == open_query.submission.patient.site


def test_a_query_must_name_a_field_of_the_submissions_form_version(curator, submission):
    with pytest.raises(ValidationError) as error:
        do_open_data_query(curator, submission, "wt_grade_left", "Which hand?")
    message = error.value.message_dict["field"][0]
    assert "'wt_grade_left' is not a field of assessment version 1" in message
    assert "wt_grade" in message  # names the fields that would be right
    assert not DataQuery.objects.exists()


@pytest.mark.parametrize("role_fixture", ["coordinator_a", "researcher"])
def test_only_curators_and_admins_open_queries(request, role_fixture, submission):
    with pytest.raises(PermissionDenied):
        do_open_data_query(request.getfixturevalue(role_fixture), submission, "wt_grade", "Why?")
    assert not DataQuery.objects.exists()


def test_an_admin_may_open_a_query(admin_user, submission):
    assert do_open_data_query(admin_user, submission, "age_months", "Is 36 right?").pk


def test_a_question_with_an_identifier_in_it_is_refused(curator, submission):
    with pytest.raises(ValidationError) as error:
        do_open_data_query(curator, submission, "wt_grade", "Seen on 2019-03-12, confirm?")
    assert "text" in error.value.message_dict
    assert not DataQuery.objects.exists()


def test_an_empty_question_is_refused(curator, submission):
    with pytest.raises(ValidationError, match="Write the question"):
        do_open_data_query(curator, submission, "wt_grade", "   ")


def test_the_sites_coordinator_answers_and_the_query_becomes_answered(coordinator_a, open_query):
    answered = do_answer_data_query(coordinator_a, open_query, "Confirmed: grade 2 in the notes.")
    assert answered.status == QueryStatus.ANSWERED
    assert [m.kind for m in answered.messages.all()] == [MessageKind.QUESTION, MessageKind.ANSWER]
    event = AuditEvent.objects.get(action="data_query.answer")
    assert event.changes == {"status": ["open", "answered"]} and event.actor == coordinator_a


def test_a_coordinator_of_another_site_cannot_answer(coordinator_b, open_query):
    with pytest.raises(PermissionDenied):
        do_answer_data_query(coordinator_b, open_query, "Not mine.")
    open_query.refresh_from_db()
    assert open_query.status == QueryStatus.OPEN and open_query.messages.count() == 1


def test_a_curator_cannot_answer_a_query(curator, open_query):
    with pytest.raises(PermissionDenied):
        do_answer_data_query(curator, open_query, "Answering myself.")


def test_a_curator_closes_and_reopens_with_the_thread_kept(curator, coordinator_a, open_query):
    do_answer_data_query(coordinator_a, open_query, "Confirmed.")
    closed = do_close_data_query(curator, open_query)
    assert closed.status == QueryStatus.CLOSED and closed.closed_at is not None
    reopened = do_reopen_data_query(curator, open_query, "The notes say grade 3; look again.")
    assert reopened.status == QueryStatus.OPEN and reopened.closed_at is None
    kinds = [m.kind for m in reopened.messages.all()]
    assert kinds == ["question", "answer", "close", "reopen"]
    actions = list(
        AuditEvent.objects.filter(action__startswith="data_query").values_list("action", flat=True)
    )
    assert actions == [
        "data_query.open",
        "data_query.answer",
        "data_query.close",
        "data_query.reopen",
    ]


def test_a_closed_query_cannot_be_answered_until_reopened(curator, coordinator_a, open_query):
    do_close_data_query(curator, open_query, "Resolved by the correction.")
    with pytest.raises(ValidationError, match="re-open"):
        do_answer_data_query(coordinator_a, open_query, "One more thing.")


def test_only_a_closed_query_can_be_reopened(curator, open_query):
    with pytest.raises(ValidationError, match="Only a closed query"):
        do_reopen_data_query(curator, open_query, "Again.")


def test_closing_twice_is_refused(curator, open_query):
    do_close_data_query(curator, open_query)
    with pytest.raises(ValidationError, match="closed already"):
        do_close_data_query(curator, open_query)


def test_coordinators_cannot_close_or_reopen(coordinator_a, curator, open_query):
    with pytest.raises(PermissionDenied):
        do_close_data_query(coordinator_a, open_query)
    do_close_data_query(curator, open_query)
    with pytest.raises(PermissionDenied):
        do_reopen_data_query(coordinator_a, open_query, "Please reopen.")


def test_coordinators_see_only_their_sites_queries(
    coordinator_a, coordinator_b, curator, researcher, open_query
):
    assert list(visible_data_queries(coordinator_a)) == [open_query]
    assert not visible_data_queries(coordinator_b).exists()
    assert list(visible_data_queries(curator)) == [open_query]
    assert not visible_data_queries(researcher).exists()
