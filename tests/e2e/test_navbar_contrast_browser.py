"""In a real browser: the navigation bar's links, as the page computes their colours, reach
WCAG 2.1 AA contrast against the bar."""

from __future__ import annotations

import pytest

from tests.contrast import AA_NORMAL_TEXT, contrast_ratio, parse_colour
from tests.e2e.browsing import log_in
from tests.factories import DEFAULT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def computed(page, selector: str, prop: str) -> str:
    return page.eval_on_selector(selector, f"element => getComputedStyle(element).{prop}")


def test_the_navbar_links_reach_aa_contrast_as_the_browser_paints_them(page, coordinator_a):
    log_in(page, coordinator_a.username, DEFAULT_PASSWORD)
    background = parse_colour(computed(page, "nav[aria-label=Main]", "backgroundColor"))
    assert background is not None and background != (0.0, 0.0, 0.0)
    links = page.locator("nav[aria-label=Main] .nav-link")
    assert links.count() >= 4
    for index in range(links.count()):
        colour = parse_colour(
            links.nth(index).evaluate("element => getComputedStyle(element).color"),
            under=background,
        )
        assert colour is not None
        assert contrast_ratio(colour, background) >= AA_NORMAL_TEXT, links.nth(index).inner_text()
