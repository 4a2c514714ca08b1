"""The registry's own colours pass WCAG 2.1 AA (4.5:1 for normal text), computed from the
stylesheet the registry ships, and the navigation bar wears the background the sheet sets."""

from __future__ import annotations

import re

import pytest
from django.conf import settings

from tests.contrast import (
    AA_NORMAL_TEXT,
    WHITE,
    contrast_ratio,
    parse_colour,
    stylesheet_rules,
)

REGISTRY_CSS = settings.BASE_DIR / "static" / "css" / "registry.css"
NAVBAR = ".registry-navbar"


def declared(selector: str, prop: str) -> str:
    for rule_selector, declarations in stylesheet_rules(REGISTRY_CSS):
        if selector in (part.strip() for part in rule_selector.split(",")) and prop in declarations:
            return declarations[prop]
    raise AssertionError(f"registry.css sets no {prop} for {selector}")


def navbar_background():
    background = parse_colour(declared(NAVBAR, "background-color"))
    assert background is not None
    return background


def test_the_navbar_links_reach_aa_contrast_against_the_navbar():
    background = navbar_background()
    for selector in (".navbar .nav-link", ".navbar .nav-link:hover"):
        link = parse_colour(declared(selector, "color"), under=background)
        assert link is not None
        assert contrast_ratio(link, background) >= AA_NORMAL_TEXT, selector


def test_the_white_brand_and_user_name_reach_aa_contrast_against_the_navbar():
    assert contrast_ratio(WHITE, navbar_background()) >= AA_NORMAL_TEXT


def test_the_old_primary_blue_would_fail():
    """The check can fail: the links over Bootstrap's primary blue were 3.9:1."""
    primary = parse_colour("#0d6efd")
    assert primary is not None
    link = parse_colour(declared(".navbar .nav-link", "color"), under=primary)
    assert link is not None
    assert contrast_ratio(link, primary) < AA_NORMAL_TEXT


@pytest.mark.django_db
def test_the_page_navbar_wears_the_stylesheets_background(client, coordinator_a):
    client.force_login(coordinator_a)
    page = client.get("/", follow=True).content.decode()
    classes = re.search(r'<nav class="([^"]*)" aria-label="Main"', page)
    assert classes is not None
    names = classes[1].split()
    assert NAVBAR.lstrip(".") in names
    # Bootstrap's bg-* classes are !important: one left on the bar would paint over ours.
    assert not any(name.startswith("bg-") for name in names)


def text_colours():
    """Every rule of registry.css that sets a text colour, with the background it sits on: its
    own, the navbar's inside the navbar, or the page's white."""
    cases = []
    for selector, declarations in stylesheet_rules(REGISTRY_CSS):
        if "color" not in declarations:
            continue
        own = declarations.get("background-color") or declarations.get("background")
        if own is not None:
            background = parse_colour(own)
        elif selector.startswith(".navbar"):
            background = navbar_background()
        else:
            background = WHITE
        assert background is not None, selector
        colour = parse_colour(declarations["color"], under=background)
        if colour is not None:
            cases.append(pytest.param(colour, background, id=selector))
    return cases


@pytest.mark.parametrize(("colour", "background"), text_colours())
def test_every_text_colour_of_the_stylesheet_reaches_aa_contrast(colour, background):
    assert contrast_ratio(colour, background) >= AA_NORMAL_TEXT


def test_the_stylesheet_sets_text_colours_to_check():
    assert len(text_colours()) > 10
