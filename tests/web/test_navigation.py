"""Every page carries the same navigation, showing each role the places it may go."""

import pytest

pytestmark = pytest.mark.django_db


def nav_of(client, user, url="/statistics/"):
    client.force_login(user)
    page = client.get(url).content.decode()
    return page[page.index('aria-label="Main"') : page.index("</nav>")]


def test_coordinators_see_records_quality_and_statistics_but_not_curation(client, coordinator_a):
    nav = nav_of(client, coordinator_a)
    assert "Records" in nav and "Data quality" in nav and "Statistics" in nav
    assert "Curation" not in nav and "Background jobs" not in nav


def test_researchers_see_statistics_only(client, researcher):
    nav = nav_of(client, researcher)
    assert "Statistics" in nav
    assert "Records" not in nav and "Data quality" not in nav and "Curation" not in nav


def test_curators_reach_the_curation_pages_and_jobs(client, curator):
    nav = nav_of(client, curator, "/")
    assert 'href="/admin/"' in nav and 'href="/jobs/"' in nav
