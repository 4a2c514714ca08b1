"""Under the Content Security Policy, in a real browser: no page reports a violation, and the
pages' scripts still do their work (branching logic, progress bars, the API docs)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from registry.jobs.models import JobKind, JobRun, JobStatus
from registry.statistics.services import do_compute_statistics
from tests.e2e.browsing import log_in
from tests.factories import DEFAULT_PASSWORD, enter_submission

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Before any of the page's own scripts: every violation the page reports is kept.
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(
    `${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""
ASSESSMENT = {"mm_age_months": 60, "mm_present": "1", "wt_grade_left_task": "1"}


@pytest.fixture
def watched(page):
    """The page, and the CSP violations it reports (events and console messages alike)."""
    page.context.add_init_script(LISTEN)
    console: list[str] = []
    page.on(
        "console",
        lambda message: console.append(message.text)
        if "Content Security Policy" in message.text
        else None,
    )
    return page, console


def visit(page, console: list[str], url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")
    check(page, console, url)


def check(page, console: list[str], where: str) -> None:
    reported = page.evaluate("window.__violations")
    assert reported == [], f"{where}: {reported}"
    assert console == [], f"{where}: {console}"


def test_no_page_reports_a_csp_violation_and_the_scripts_still_work(
    watched, live_server, coordinator_a, curator, patient_a, registry_forms
):
    page, console = watched
    submission = enter_submission(
        coordinator_a, patient_a, registry_forms[("mirror_movements", 2)], ASSESSMENT
    )
    do_compute_statistics(None)
    run = JobRun.objects.create(
        kind=JobKind.QUALITY,
        requested_by=curator,
        status=JobStatus.RUNNING,
        progress_done=3,
        progress_total=4,
        heartbeat_at=timezone.now(),
        started_at=timezone.now(),
    )

    visit(page, console, "/login/")
    log_in(page, coordinator_a.username, DEFAULT_PASSWORD)
    check(page, console, "dashboard")
    visit(page, console, f"/patients/{patient_a.pseudonym}/")

    # The form page: the branching logic (a static script) shows and hides the grades.
    visit(page, console, f"/patients/{patient_a.pseudonym}/mirror_movements/new/")
    grades = page.locator("#field-wt_grade_left_task")
    assert grades.is_hidden()
    page.locator("input[name=mm_present][value='1']").check()
    assert grades.is_visible()
    page.locator("input[name=mm_present][value='0']").check()
    assert grades.is_hidden()
    check(page, console, "form page")

    page.context.clear_cookies()
    log_in(page, curator.username, DEFAULT_PASSWORD)
    visit(page, console, "/admin/")
    visit(page, console, "/admin/submissions/submission/?review=awaiting")
    visit(page, console, f"/admin/submissions/submission/{submission.pk}/change/")
    # The review page's layout comes from its stylesheet: two columns, flagged rows tinted.
    columns = page.locator(".review-columns").evaluate("node => getComputedStyle(node).display")
    assert columns == "grid"
    visit(page, console, "/admin/curation/dataquery/")
    visit(page, console, "/admin/audit/auditevent/")

    # Statistics: the charts are drawn (server-side SVG, styled from the stylesheet).
    visit(page, console, "/statistics/")
    charts = page.locator("svg.stats-chart")
    assert charts.count() > 0 and charts.first.bounding_box()["height"] > 20
    assert charts.first.evaluate("node => getComputedStyle(node).display") == "block"

    # Jobs: the progress bar takes its width from a script, not a style attribute.
    visit(page, console, "/jobs/")
    visit(page, console, f"/jobs/{run.pk}/")
    bar = page.locator(".progress-bar").first
    assert bar.get_attribute("style") == "width: 75%;"
    box, track = bar.bounding_box(), page.locator(".job-progress").first.bounding_box()
    assert box and track and 0.7 < box["width"] / track["width"] < 0.8

    # The API's documentation: Swagger UI, from the registry's own static files, renders the schema.
    visit(page, console, "/api/docs/")
    page.get_by_text("Mirror movements registry API").first.wait_for(timeout=20_000)
    # Its script works: an operation opens to show its parameters and "Try it out".
    page.get_by_text("/api/v1/forms/{name}/", exact=True).first.click()
    page.get_by_role("button", name="Try it out").first.wait_for()
    check(page, console, "/api/docs/ once rendered")
    page.screenshot(path="/tmp/registry-api-docs.png", full_page=False)
