"""The coordinators' data query inbox: questions on their sites' forms, with a reply box."""

import pytest

from registry.audit.models import AuditEvent
from registry.curation.models import QueryStatus
from registry.curation.services import do_close_data_query, do_open_data_query
from tests.factories import enter_submission
from tests.web.helpers import MM_PRESENT

pytestmark = pytest.mark.django_db


@pytest.fixture
def query_a(coordinator_a, curator, patient_a, registry_forms):
    submission = enter_submission(
        coordinator_a, patient_a, registry_forms["mirror_movements", 2], MM_PRESENT
    )
    return do_open_data_query(
        curator,
        submission,
        "wt_grade_left_task",
        "Grade 2 at 3 years: please confirm from the clinic notes.",
    )


@pytest.fixture
def query_b(coordinator_b, curator, patient_b, registry_forms):
    submission = enter_submission(
        coordinator_b, patient_b, registry_forms["mirror_movements", 2], MM_PRESENT
    )
    return do_open_data_query(curator, submission, "mm_age_months", "Site B question.")


def test_the_inbox_lists_the_sites_open_queries_only(client_a, query_a, query_b):
    page = client_a.get("/queries/").content.decode()
    assert f'href="/queries/{query_a.pk}/"' in page
    assert "Left-hand task (watch the right hand)" in page  # the field's label, not its name
    assert "please confirm from the clinic notes" in page
    assert f'href="/queries/{query_b.pk}/"' not in page and "Site B question" not in page


def test_the_inbox_filters_by_status(client_a, curator, query_a):
    do_close_data_query(curator, query_a, "Resolved.")
    assert f"/queries/{query_a.pk}/" not in client_a.get("/queries/").content.decode()
    closed = client_a.get("/queries/", {"status": "closed"}).content.decode()
    assert f"/queries/{query_a.pk}/" in closed


def test_the_thread_shows_the_question_the_value_and_a_link_to_the_field(
    client_a, query_a, patient_a
):
    page = client_a.get(f"/queries/{query_a.pk}/").content.decode()
    assert "Question about “Left-hand task (watch the right hand)”" in page
    assert "Grade 2 at 3 years: please confirm" in page
    assert "2 - Slight but unequivocal repetitive movement" in page  # the value now
    link = f"/patients/{patient_a.pseudonym}/mirror_movements/1/#field-wt_grade_left_task"
    assert f'href="{link}"' in page
    assert 'name="text"' in page  # the reply box


def test_a_coordinator_answers_from_the_thread(client_a, query_a, coordinator_a):
    response = client_a.post(
        f"/queries/{query_a.pk}/", {"text": "Confirmed: grade 2 in the clinic notes."}, follow=True
    )
    query_a.refresh_from_db()
    assert query_a.status == QueryStatus.ANSWERED
    assert query_a.messages.last().author == coordinator_a
    page = response.content.decode()
    assert "Your answer was sent to the curators." in page
    assert "Confirmed: grade 2 in the clinic notes." in page
    assert AuditEvent.objects.filter(action="data_query.answer", actor=coordinator_a).exists()


def test_an_empty_or_identifying_answer_is_refused_with_a_reason(client_a, query_a):
    empty = client_a.post(f"/queries/{query_a.pk}/", {"text": "  "}).content.decode()
    assert "Write your answer; it cannot be empty." in empty
    dated = client_a.post(
        f"/queries/{query_a.pk}/", {"text": "Seen on 12/03/2019 by the team."}
    ).content.decode()
    assert "looks like" in dated and "Seen on 12/03/2019 by the team." in dated
    query_a.refresh_from_db()
    assert query_a.status == QueryStatus.OPEN and query_a.messages.count() == 1


def test_another_sites_query_is_not_found(client_a, query_b):
    assert client_a.get(f"/queries/{query_b.pk}/").status_code == 404
    assert client_a.post(f"/queries/{query_b.pk}/", {"text": "Mine?"}).status_code == 404
    assert query_b.messages.count() == 1


def test_a_closed_query_has_no_reply_box(client_a, curator, query_a):
    do_close_data_query(curator, query_a)
    page = client_a.get(f"/queries/{query_a.pk}/").content.decode()
    assert "This query is closed" in page and 'name="text"' not in page
    assert client_a.post(f"/queries/{query_a.pk}/", {"text": "More."}).status_code == 403


def test_curators_read_threads_but_do_not_answer(client, curator, query_a):
    client.force_login(curator)
    page = client.get(f"/queries/{query_a.pk}/").content.decode()
    assert "Grade 2 at 3 years" in page and 'name="text"' not in page
    assert client.post(f"/queries/{query_a.pk}/", {"text": "Myself."}).status_code == 403


def test_researchers_have_no_inbox(client, researcher, query_a):
    client.force_login(researcher)
    assert client.get("/queries/").status_code == 403
    assert client.get(f"/queries/{query_a.pk}/").status_code == 403


def test_open_queries_are_listed_on_the_form_they_are_about(client_a, query_a, patient_a):
    page = client_a.get(f"/patients/{patient_a.pseudonym}/mirror_movements/1/").content.decode()
    assert "Open data queries on this form" in page and f"/queries/{query_a.pk}/" in page
    patient_page = client_a.get(f"/patients/{patient_a.pseudonym}/").content.decode()
    assert "1 open query" in patient_page
