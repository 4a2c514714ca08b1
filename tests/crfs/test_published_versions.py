"""The per-process copy of the published versions follows every publication, wherever it
happened, and forgets every one rolled back."""

import pytest
from django.db import transaction

from registry.crfs.models import FormVersion
from registry.crfs.selectors import published_version
from registry.exchange.layout import current_layout
from registry.formengine.schema import content_hash, load_schema, schema_to_dict
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


def test_a_version_written_elsewhere_replaces_the_copy():
    first = publish_form(assessment_schema(1))
    assert published_version("assessment") == first
    # As another process would: a row this process was never told about.
    second = load_schema(assessment_schema(2))
    FormVersion.objects.create(
        form=first.form, number=2, schema=schema_to_dict(second), content_hash=content_hash(second)
    )
    assert published_version("assessment").number == 2
    assert current_layout().by_name["assessment"].latest.number == 2


def test_a_rolled_back_publication_leaves_no_trace_in_the_copy():
    publish_form(assessment_schema(1))
    with pytest.raises(RuntimeError), transaction.atomic():
        publish_form(assessment_schema(2))
        assert published_version("assessment").number == 2
        raise RuntimeError
    assert published_version("assessment").number == 1
    assert published_version("assessment", 2) is None


def test_a_lookup_from_the_copy_costs_one_small_query(django_assert_num_queries):
    publish_form(assessment_schema(1))
    published_version("assessment")
    with django_assert_num_queries(1):
        assert published_version("assessment").number == 1
