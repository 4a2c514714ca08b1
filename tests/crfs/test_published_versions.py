"""The per-process copy of the published versions follows every publication."""

import pytest
from django.core.cache import cache

from registry.crfs import selectors
from registry.crfs.models import FormVersion
from registry.crfs.selectors import published_version
from tests.factories import assessment_schema, publish_form

pytestmark = pytest.mark.django_db


def test_the_newest_version_is_the_default():
    publish_form(assessment_schema(1))
    second = publish_form(assessment_schema(2))
    assert published_version("assessment") == second


def test_a_version_is_found_by_number():
    first = publish_form(assessment_schema(1))
    publish_form(assessment_schema(2))
    assert published_version("assessment", 1) == first


def test_unknown_forms_and_numbers_are_none():
    publish_form(assessment_schema(1))
    assert published_version("nothing") is None
    assert published_version("assessment", 7) is None


def test_publishing_replaces_the_copy_in_this_process():
    publish_form(assessment_schema(1))
    assert published_version("assessment").number == 1
    publish_form(assessment_schema(2, title="Assessment, revised"))
    newest = published_version("assessment")
    assert newest.number == 2 and newest.form.title == "Assessment, revised"


def test_a_publication_in_another_process_replaces_the_copy():
    first = publish_form(assessment_schema(1))
    assert published_version("assessment") == first
    # Another process publishes: a row this process never saw, and a new generation.
    FormVersion.objects.create(form=first.form, number=2, schema=first.schema,
                               content_hash="x" * 64)
    assert published_version("assessment") == first
    cache.set(selectors._GENERATION_KEY, "another generation", None)
    assert published_version("assessment").number == 2


def test_publishing_sets_a_new_generation_once_committed(django_capture_on_commit_callbacks):
    before = cache.get(selectors._GENERATION_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        publish_form(assessment_schema(1))
    assert cache.get(selectors._GENERATION_KEY) not in (None, before)
