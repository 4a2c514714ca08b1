"""The statistics give exactly the numbers counted by hand (here: in plain Python from the
generated data), on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import statistics as pystats
from collections import Counter, defaultdict
from typing import Any

import pytest

from registry.crfs.selectors import schema_of
from registry.demo.synthetic import do_generate_synthetic
from registry.formengine.validation import validate_submission
from registry.people.models import Site
from registry.statistics.models import StatsSnapshot
from registry.statistics.services import do_compute_statistics
from registry.submissions.models import Submission
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db

# Version 1 of Mirror movements called the left-hand task's grade `wt_grade`.
V1_NAMES = {"wt_grade": "wt_grade_left_task"}


@pytest.fixture
def registry(forms):
    sites = [SiteFactory(code="ALPHA"), SiteFactory(code="BETA")]
    do_generate_synthetic(None, sites, patients=150, seed=11, error_share=0.15)
    rows = []
    for s in Submission.objects.select_related("patient__site", "form", "form_version"):
        data = dict(s.data)
        if s.form.name == "mirror_movements" and s.form_version.number == 1:
            data = {V1_NAMES.get(key, key): value for key, value in data.items()}
        rows.append(
            {
                "pk": s.pk,
                "patient": s.patient_id,
                "site": s.patient.site.code,
                "form": s.form.name,
                "version": s.form_version,
                "status": s.status,
                "instance": s.instance,
                "raw": s.data,
                "data": data,
            }
        )
    snapshot = do_compute_statistics(None)
    return snapshot, rows


def table(results: dict[str, Any], key: str) -> dict[str, Any]:
    tables = [results["patients_by_site"], *results["submissions"], *results["clinical"]]
    tables += [
        f["table"]
        for form in results["fields"]
        for f in form["fields"]
        if f["kind"] == "categorical"
    ]
    return next(t for t in tables if t["key"] == key)


def cells(t: dict[str, Any]) -> dict[tuple[str, str], int]:
    return {
        (row["code"], column["code"]): t["cells"][r][c]
        for r, row in enumerate(t["rows"])
        for c, column in enumerate(t["columns"])
        if t["cells"][r][c]
    }


def numeric(results: dict[str, Any], form: str, name: str) -> dict[str, Any]:
    fields = next(f for f in results["fields"] if f["form"] == form)["fields"]
    return next(f for f in fields if f["name"] == name)["summary"]


def expected_summary(values: list[float]) -> dict[str, Any]:
    q1, _, q3 = pystats.quantiles(values, n=4, method="inclusive")
    return {
        "n": len(values),
        "mean": pystats.mean(values),
        "sd": pystats.stdev(values),
        "median": pystats.median(values),
        "q1": q1,
        "q3": q3,
        "min": min(values),
        "max": max(values),
    }


def values(rows: list[dict], form: str, name: str) -> list[float]:
    return [
        r["data"][name]
        for r in rows
        if r["form"] == form and isinstance(r["data"].get(name), int | float)
    ]


def test_counts_per_site_form_and_status(registry):
    snapshot, rows = registry
    assert snapshot.data_cut["submissions"] == len(rows)
    assert snapshot.data_cut["patients"] == len({r["patient"] for r in rows})
    patients = Counter(site for site, _ in {(r["site"], r["patient"]) for r in rows})
    assert cells(table(snapshot.results, "patients_by_site")) == {
        (site, "n"): n for site, n in patients.items()
    }
    for form in ("enrollment", "mirror_movements", "surgery"):
        expected = Counter((r["site"], r["status"]) for r in rows if r["form"] == form)
        assert cells(table(snapshot.results, f"submissions_{form}")) == dict(expected)


def test_submissions_by_form_version_are_in_the_data_cut(registry):
    snapshot, rows = registry
    by_version = Counter((r["form"], r["version"].number) for r in rows)
    cut = {
        (form["form"], v["version"]): v["submissions"]
        for form in snapshot.data_cut["forms"]
        for v in form["versions"]
    }
    assert cut == dict(by_version)
    assert by_version[("mirror_movements", 1)] and by_version[("mirror_movements", 2)]


def test_completeness_counts_required_fields_among_those_shown(registry):
    snapshot, rows = registry
    expected: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        schema = schema_of(r["version"])
        hidden = validate_submission(schema, r["raw"]).hidden
        for f in schema.fields:
            if f.required and f.stores_data and f.type != "calc" and f.name not in hidden:
                expected[(r["site"], r["form"])][0] += 1
                expected[(r["site"], r["form"])][1] += f.name in r["raw"]
    completeness = snapshot.results["completeness"]
    found = {
        (row["code"], column["code"]): [cell["expected"], cell["filled"]]
        for row, line in zip(completeness["rows"], completeness["cells"], strict=True)
        for column, cell in zip(completeness["columns"], line, strict=True)
        if cell["expected"]
    }
    assert found == dict(expected)
    assert completeness["left_out"] == []


def test_distributions_of_choices_harmonised_across_versions(registry):
    snapshot, rows = registry
    for form, name in (
        ("dysraphic_lesion", "lesion_type"),
        ("enrollment", "handedness"),
        ("mirror_movements", "wt_grade_left_task"),
        ("follow_up", "fu_mm_status"),
    ):
        expected = Counter(
            (r["data"][name], "n") for r in rows if r["form"] == form and name in r["data"]
        )
        assert cells(table(snapshot.results, f"{form}.{name}")) == dict(expected), name
    grades = table(snapshot.results, "mirror_movements.wt_grade_left_task")
    from_v1 = sum(
        1
        for r in rows
        if r["form"] == "mirror_movements" and r["version"].number == 1 and "wt_grade" in r["raw"]
    )
    assert from_v1 > 0 and grades["total"] > from_v1


def test_checkbox_distributions_count_each_ticked_option(registry):
    snapshot, rows = registry
    expected = Counter(
        (code, "n")
        for r in rows
        if r["form"] == "surgery"
        for code in r["data"].get("procedures", [])
    )
    procedures = table(snapshot.results, "surgery.procedures")
    assert cells(procedures) == dict(expected)
    assert procedures["total"] == sum(1 for r in rows if r["form"] == "surgery")
    assert procedures["additive"] is False


@pytest.mark.parametrize(
    "form, name",
    [
        ("mirror_movements", "mm_age_months"),
        ("surgery", "surg_age_days"),
        ("follow_up", "months_since_surgery"),
        ("enrollment", "enrol_age_months"),
    ],
)
def test_numeric_summaries(registry, form, name):
    snapshot, rows = registry
    found = numeric(snapshot.results, form, name)
    expected = expected_summary(values(rows, form, name))
    for key, value in expected.items():
        assert found[key] == pytest.approx(value, rel=1e-9, abs=1e-9), key


def _mm_status(rows: list[dict]) -> dict[int, str]:
    answers: dict[int, set[str]] = defaultdict(set)
    for r in rows:
        if r["form"] == "mirror_movements":
            answers[r["patient"]].add(r["data"].get("mm_present"))
    return {
        patient: "present" if "1" in seen else "absent" if "0" in seen else "unknown"
        for patient, seen in answers.items()
    }


@pytest.mark.parametrize("field", ["lesion_type", "lesion_level"])
def test_mirror_movements_by_lesion(registry, field):
    snapshot, rows = registry
    status = _mm_status(rows)
    pairs = {(r["patient"], r["data"][field]) for r in rows if r["form"] == "dysraphic_lesion"}
    expected = Counter((value, status.get(patient, "not_assessed")) for patient, value in pairs)
    assert cells(table(snapshot.results, f"mm_by_{field}")) == dict(expected)


def test_highest_woods_and_teuber_grade_by_lesion_type(registry):
    snapshot, rows = registry
    grades: dict[int, int] = {}
    for r in rows:
        if r["form"] != "mirror_movements":
            continue
        for name in ("wt_grade_left_task", "wt_grade_right_task"):
            if r["data"].get(name) in ("0", "1", "2", "3", "4"):
                grades[r["patient"]] = max(grades.get(r["patient"], 0), int(r["data"][name]))
    pairs = {
        (r["patient"], r["data"]["lesion_type"]) for r in rows if r["form"] == "dysraphic_lesion"
    }
    expected = Counter((kind, str(grades[p])) for p, kind in pairs if p in grades)
    assert cells(table(snapshot.results, "wt_grade_by_lesion_type")) == dict(expected)


def test_mirror_movements_at_follow_up_after_surgery_by_procedure(registry):
    snapshot, rows = registry
    visits = [r for r in rows if r["form"] == "follow_up" and r["data"].get("fu_mm_status")]
    latest: dict[tuple[int, str], tuple[Any, ...]] = {}
    for r in rows:
        if r["form"] != "surgery":
            continue
        for procedure in r["data"]["procedures"]:
            for v in visits:
                if v["patient"] != r["patient"]:
                    continue
                if v["data"]["fu_age_months"] * 30.44 < r["data"]["surg_age_days"]:
                    continue
                order = (v["data"]["fu_age_months"], v["instance"])
                key = (r["patient"], procedure)
                if key not in latest or order > latest[key][0]:
                    latest[key] = (order, v["data"]["fu_mm_status"])
    expected = Counter((procedure, status) for (_, procedure), (_, status) in latest.items())
    assert cells(table(snapshot.results, "mm_at_follow_up_by_procedure")) == dict(expected)


def test_age_at_onset(registry):
    snapshot, rows = registry
    onset: dict[int, int] = {}
    early: set[int] = set()
    for r in rows:
        if r["form"] != "mirror_movements":
            continue
        if "onset_age_months" in r["data"]:
            onset[r["patient"]] = min(onset.get(r["patient"], 10**6), r["data"]["onset_age_months"])
        if "1" in r["data"].get("onset_early_childhood", []):
            early.add(r["patient"])

    def band(age: int) -> str:
        for limit, code in ((12, "lt1"), (24, "1to2"), (60, "2to5"), (120, "5to10")):
            if age < limit:
                return code
        return "10plus"

    expected = Counter((band(age), "n") for age in onset.values())
    expected.update((("early", "n"),) * len(early - set(onset)))
    onset_table = table(snapshot.results, "age_at_onset")
    assert cells(onset_table) == dict(expected)
    for key, value in expected_summary(list(onset.values())).items():
        assert onset_table["summary"][key] == pytest.approx(value, rel=1e-9), key


def test_a_snapshot_is_stored_with_its_data_cut_and_audited(registry):
    snapshot, _ = registry
    from registry.audit.models import AuditEvent

    assert StatsSnapshot.objects.get() == snapshot
    assert snapshot.data_cut["sites"] == Site.objects.count()
    assert {form["form"] for form in snapshot.data_cut["forms"]} >= {"enrollment", "surgery"}
    assert AuditEvent.objects.filter(action="statistics.compute").count() == 1
