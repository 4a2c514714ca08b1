"""A full run split over processes finds exactly what one process finds (the split runs on
PostgreSQL only: the forked processes read the database through connections of their own)."""

from __future__ import annotations

import os

import pytest
from django.db import connection

from registry.quality import services
from registry.quality.checks import QualityChecker
from registry.quality.models import QualityIssue
from registry.quality.services import do_run_quality_checks
from tests.quality.builders import ENROLMENT, clean_patient, patient, stored

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="processes share only a database server"
)


def findings() -> list[tuple[object, ...]]:
    return sorted(
        QualityIssue.objects.values_list(
            "rule", "patient_id", "submission_id", "field", "message", "severity", "status"
        )
    )


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_run_split_over_processes_finds_what_one_process_finds(
    forms, site_a, site_b, settings, monkeypatch, tmp_path
):
    for number, site in enumerate([site_a, site_b] * 4):
        clean_patient(site)
        stored(patient(site), "enrollment", {**ENROLMENT, "enrol_age_months": 1100 + number})
        stored(
            patient(site, year_of_birth=2015),
            "enrollment",
            {**ENROLMENT, "handedness": "both hands"},
        )
    settings.QUALITY_PARALLEL_FROM_PATIENTS = 1
    settings.QUALITY_PROCESSES = 1
    alone = do_run_quality_checks(None, full=True)
    found_alone = findings()
    QualityIssue.objects.all().delete()
    pids = tmp_path / "pids"
    check_batch = QualityChecker.check_batch

    def noting_the_process(self, *args, **kwargs):
        with pids.open("a") as out:
            out.write(f"{os.getpid()}\n")
        return check_batch(self, *args, **kwargs)

    monkeypatch.setattr(QualityChecker, "check_batch", noting_the_process)
    monkeypatch.setattr(services, "PATIENT_BATCH", 5)
    settings.QUALITY_PROCESSES = 3

    split = do_run_quality_checks(None, full=True)

    assert len(set(pids.read_text().split())) == 3
    assert findings() == found_alone
    assert {rule for rule, *_ in found_alone} >= {"outlier_limits", "choice_unknown"}
    for count in ("patients_checked", "submissions_checked", "findings", "new"):
        assert split[count] == alone[count]
    assert split["patients_checked"] == 24


@pytest.mark.django_db
def test_patients_are_cut_into_ranges_that_cover_everyone_once(site_a):
    people = [patient(site_a) for _ in range(7)]
    ranges = services._id_ranges(3)
    assert len(ranges) == 3 and ranges[0][0] is None and ranges[-1][1] is None
    batches = [
        pk for bounds in ranges for batch in services._patient_batches(None, bounds) for pk in batch
    ]
    assert batches == [p.pk for p in people]
    assert services._id_ranges(8) == [(None, None)]  # fewer patients than processes
