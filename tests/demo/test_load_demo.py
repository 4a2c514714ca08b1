import io

import pytest
from django.core.management import call_command

from registry.patients.models import Patient
from registry.people.models import Role, User
from registry.submissions.models import Submission

pytestmark = pytest.mark.django_db


def index_case_pseudonyms() -> list[str]:
    from registry.demo.services import load_index_cases
    from registry.patients.services import pseudonym_for
    from registry.people.models import Site

    home = Site.objects.get(code="TUMS")
    return [pseudonym_for(home, case["local_id"]) for case in load_index_cases()]


def load():
    out = io.StringIO()
    call_command("sync_forms", stdout=io.StringIO())
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_demo_prints_where_and_as_whom_to_log_in():
    output = load()
    assert "Log in at http://127.0.0.1:8000/" in output
    assert "nurse" in output and "registry-demo" in output


def test_demo_has_one_user_per_role_who_can_log_in(client):
    load()
    for role in Role.values:
        assert User.objects.filter(role=role).exists()
    response = client.post("/login/", {"username": "nurse", "password": "registry-demo"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_demo_enrols_the_index_cases_and_loading_twice_changes_nothing():
    load()
    patients = Patient.objects.count()
    users = User.objects.count()
    load()
    assert patients >= 2
    assert Patient.objects.count() == patients
    assert User.objects.count() == users


def test_index_cases_are_entered_through_validation_on_both_mm_versions():
    load()
    versions = set(
        Submission.objects.filter(form__name="mirror_movements").values_list(
            "form_version__number", flat=True
        )
    )
    assert versions == {1, 2}
    index_patients = Patient.objects.filter(pseudonym__in=index_case_pseudonyms())
    assert Submission.objects.filter(form__name="surgery", patient__in=index_patients).count() == 2
    submissions = Submission.objects.count()
    load()
    assert Submission.objects.count() == submissions


def test_the_first_load_computes_statistics_and_quality_checks_once():
    from registry.quality.models import QualityIssue
    from registry.statistics.models import StatsSnapshot

    output = load()
    assert "Statistics computed" in output
    assert StatsSnapshot.objects.count() == 1 and QualityIssue.objects.exists()
    assert "Statistics computed" not in load()
    assert StatsSnapshot.objects.count() == 1
