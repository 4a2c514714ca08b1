"""The record status dashboard: one row per patient, one column per form, cells by status."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registry.curation.services import do_open_data_query
from registry.quality.models import QualityIssue
from registry.submissions.models import Submission
from tests.factories import PatientFactory, UserFactory, enter_submission

pytestmark = pytest.mark.django_db

ENROLMENT = {
    "enrol_age_months": "36",
    "handedness": "right",
    "consent_registry": "1",
    "consent_recontact": "0",
    "primary_diagnosis": "cmmc",
}
MM_ABSENT = {"mm_age_months": "36", "mm_present": "0"}


def cell_classes(page: str, pseudonym: str, form: str) -> list[str]:
    """The status classes of the cells of one patient's form, in instance order."""
    row = re.search(rf'<tr data-patient="{pseudonym}">(.*?)</tr>', page, re.S)
    assert row, f"no row for {pseudonym}"
    cell = re.search(rf'<td data-form="{form}">(.*?)</td>', row[1], re.S)
    return re.findall(r'class="status-cell ([^"]*)"', cell[1])


def test_cells_show_each_forms_status_and_instances(
    client_a, coordinator_a, patient_a, registry_forms
):
    enter_submission(
        coordinator_a,
        patient_a,
        registry_forms["enrollment", 1],
        ENROLMENT,
        instance=1,
        status="complete",
    )
    mm = registry_forms["mirror_movements", 2]
    enter_submission(coordinator_a, patient_a, mm, MM_ABSENT, status="unverified")
    enter_submission(coordinator_a, patient_a, mm, MM_ABSENT, status="incomplete")
    page = client_a.get("/").content.decode()
    assert cell_classes(page, patient_a.pseudonym, "enrollment") == ["status-complete"]
    assert cell_classes(page, patient_a.pseudonym, "mirror_movements") == [
        "status-unverified",
        "status-incomplete",
    ]
    assert cell_classes(page, patient_a.pseudonym, "surgery") == []
    # A repeatable form's cells are numbered and link to their instances, plus an "add" link.
    base = f"/patients/{patient_a.pseudonym}/mirror_movements"
    assert f'href="{base}/1/"' in page and f'href="{base}/2/"' in page
    assert f'href="{base}/new/"' in page
    # A form filled once per patient that is not started links to its (blank) first instance.
    assert f'href="/patients/{patient_a.pseudonym}/dysraphic_lesion/new/"' in page


def test_columns_are_the_latest_forms_with_enrolment_first(client_a, patient_a, registry_forms):
    page = client_a.get("/").content.decode()
    forms = re.findall(r'<td data-form="([a-z_]+)">', page)
    assert forms[0] == "enrollment"
    assert forms == ["enrollment", "dysraphic_lesion", "follow_up", "mirror_movements", "surgery"]
    assert 'class="status-cell status-none"' in page  # enrolment not started yet


def test_a_locked_submission_shows_a_lock(client_a, coordinator_a, patient_a, registry_forms):
    submission = enter_submission(
        coordinator_a,
        patient_a,
        registry_forms["enrollment", 1],
        ENROLMENT,
        instance=1,
        status="complete",
    )
    Submission.objects.filter(pk=submission.pk).update(locked=True)
    page = client_a.get("/").content.decode()
    assert cell_classes(page, patient_a.pseudonym, "enrollment") == ["status-complete locked"]
    assert "Enrolment: Complete, locked" in page and ": complete" not in page


def test_the_legend_names_every_colour(client_a, patient_a, registry_forms):
    page = client_a.get("/").content.decode()
    for words in ("Not started", "Incomplete", "Unverified", "Complete", "Locked by a curator"):
        assert words in page


def test_search_by_registry_code(client_a, site_a, registry_forms):
    PatientFactory(site=site_a, pseudonym="SITEA-ABCDE-11111")
    PatientFactory(site=site_a, pseudonym="SITEA-FGHIJ-22222")
    page = client_a.get("/", {"q": "fghij"}).content.decode()
    assert "SITEA-FGHIJ-22222" in page and "SITEA-ABCDE-11111" not in page


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("incomplete", {"SITEA-INCOMPLETE"}),
        ("complete", {"SITEA-COMPLETE", "SITEA-LOCKED"}),
        ("locked", {"SITEA-LOCKED"}),
        ("none", {"SITEA-INCOMPLETE", "SITEA-COMPLETE", "SITEA-LOCKED", "SITEA-NOTHING"}),
        ("", {"SITEA-INCOMPLETE", "SITEA-COMPLETE", "SITEA-LOCKED", "SITEA-NOTHING"}),
    ],
)
def test_filter_by_status(client_a, coordinator_a, site_a, registry_forms, status, expected):
    enrolment = registry_forms["enrollment", 1]
    for code, state in (
        ("INCOMPLETE", "incomplete"),
        ("COMPLETE", "complete"),
        ("LOCKED", "complete"),
    ):
        patient = PatientFactory(site=site_a, pseudonym=f"SITEA-{code}")
        enter_submission(coordinator_a, patient, enrolment, ENROLMENT, instance=1, status=state)
    Submission.objects.filter(patient__pseudonym="SITEA-LOCKED").update(locked=True)
    PatientFactory(site=site_a, pseudonym="SITEA-NOTHING")
    page = client_a.get("/", {"status": status}).content.decode()
    assert set(re.findall(r'<tr data-patient="([^"]+)">', page)) == expected


def test_not_started_filter_leaves_out_patients_with_every_form(
    client_a, coordinator_a, site_a, registry_forms
):
    full = PatientFactory(site=site_a, pseudonym="SITEA-FULL")
    for (name, number), version in registry_forms.items():
        if number == max(n for f, n in registry_forms if f == name):
            data = {
                "enrollment": ENROLMENT,
                "mirror_movements": MM_ABSENT,
                "dysraphic_lesion": {"lesion_type": "cmmc", "lesion_level": "c5"},
                "surgery": {
                    "surg_age_days": "10",
                    "procedures": ["mmc_repair"],
                    "lesion_instance": "1",
                },
                "follow_up": {"fu_age_months": "40", "fu_status": "alive"},
            }[name]
            enter_submission(coordinator_a, full, version, data)
    PatientFactory(site=site_a, pseudonym="SITEA-EMPTY")
    page = client_a.get("/", {"status": "none"}).content.decode()
    assert "SITEA-EMPTY" in page and "SITEA-FULL" not in page


def test_pages_of_fifty_patients(client_a, site_a, registry_forms):
    PatientFactory.create_batch(51, site=site_a)
    first = client_a.get("/").content.decode()
    second = client_a.get("/", {"page": 2}).content.decode()
    assert len(re.findall(r"<tr data-patient=", first)) == 50
    assert len(re.findall(r"<tr data-patient=", second)) == 1
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert 'href="?page=2"' in first


def test_pagination_keeps_the_search_and_filter(client_a, site_a, registry_forms):
    PatientFactory.create_batch(51, site=site_a)
    page = client_a.get("/", {"q": "P-", "status": "none"}).content.decode()
    assert 'href="?q=P-&amp;status=none&amp;page=2"' in page


def test_counts_of_open_queries_and_issues_are_for_the_site(
    client_a, coordinator_a, curator, coordinator_b, patient_a, patient_b, registry_forms
):
    enrolment = registry_forms["enrollment", 1]
    mine = enter_submission(coordinator_a, patient_a, enrolment, ENROLMENT, instance=1)
    theirs = enter_submission(coordinator_b, patient_b, enrolment, ENROLMENT, instance=1)
    do_open_data_query(curator, mine, "handedness", "Right-handed: confirmed by a test?")
    do_open_data_query(curator, mine, "enrol_age_months", "Is 36 months right?")
    do_open_data_query(curator, theirs, "handedness", "Confirm?")
    for n, (patient, state) in enumerate(
        [(patient_a, "open"), (patient_a, "resolved"), (patient_b, "open")]
    ):
        QualityIssue.objects.create(
            rule="outlier",
            severity="warning",
            site=patient.site,
            patient=patient,
            message="Outside the usual range.",
            fingerprint=f"fp{n}",
            status=state,
            last_seen=timezone.now(),
        )
    page = client_a.get("/").content.decode()
    assert '<strong id="open-queries">2</strong>' in page
    assert '<strong id="open-issues">1</strong>' in page


def test_query_count_does_not_grow_with_the_number_of_patients(
    client_a, coordinator_a, site_a, registry_forms, django_assert_max_num_queries
):
    mm = registry_forms["mirror_movements", 2]

    def add_patients(count):
        for patient in PatientFactory.create_batch(count, site=site_a):
            enter_submission(coordinator_a, patient, mm, MM_ABSENT)
            enter_submission(coordinator_a, patient, mm, MM_ABSENT)

    add_patients(2)
    with CaptureQueriesContext(connection) as few:
        assert client_a.get("/").status_code == 200
    # Session, user, sites, forms, count, patients, submissions, queries, issues: no more.
    assert len(few.captured_queries) <= 12
    add_patients(60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client_a.get("/").content.decode()
    assert len(re.findall(r"<tr data-patient=", page)) == 50
    assert len(re.findall(r'<a class="status-cell status-incomplete"', page)) == 100


def test_a_coordinator_of_several_sites_picks_one_and_it_is_remembered(
    client, site_a, site_b, registry_forms
):
    nurse = UserFactory(sites=[site_a, site_b])
    PatientFactory(site=site_a, pseudonym="SITEA-1")
    PatientFactory(site=site_b, pseudonym="SITEB-1")
    client.force_login(nurse)
    picker = client.get("/").content.decode()
    assert "Which site are you working in?" in picker and "SITEB" in picker
    response = client.post("/site/", {"site": "SITEB"})
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert "Records at SITEB" in page and "SITEB-1" in page and "SITEA-1" not in page
    # The picker on the dashboard switches to the other site.
    client.post("/site/", {"site": "SITEA"})
    assert "SITEA-1" in client.get("/").content.decode()


def test_a_coordinator_cannot_pick_a_site_that_is_not_theirs(client_a, site_b, registry_forms):
    assert client_a.post("/site/", {"site": "SITEB"}).status_code == 404
    assert "Records at SITEA" in client_a.get("/").content.decode()


def test_curators_see_the_dashboard_of_any_site(
    client, curator, site_a, site_b, patient_b, registry_forms
):
    client.force_login(curator)
    picker = client.get("/").content.decode()
    assert "SITEA" in picker and "SITEB" in picker
    client.post("/site/", {"site": "SITEB"})
    page = client.get("/").content.decode()
    assert patient_b.pseudonym in page
    assert "Enrol a patient</a>" not in page  # curators review; they do not enrol


def test_picking_a_site_only_redirects_within_the_registry(client_a, registry_forms):
    response = client_a.post("/site/", {"site": "SITEA", "next": "https://example.org/"})
    assert response["Location"] == "/"
