"""Form versions for curators: counts, differences, and publication only on confirmation."""

import pytest
import yaml

from registry.audit.models import AuditEvent
from registry.crfs import admin as crfs_admin
from registry.crfs.models import FormVersion
from tests.factories import assessment_schema, publish_form

pytestmark = pytest.mark.django_db


def write(root, schema):
    path = root / schema["form"] / f"v{schema['version']}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(schema), encoding="utf-8")


@pytest.fixture
def forms_root(tmp_path, monkeypatch):
    monkeypatch.setattr(crfs_admin, "FORMS_ROOT", tmp_path)
    return tmp_path


def renamed_v2():
    schema = assessment_schema(version=2)
    schema["fields"][0] = {
        **schema["fields"][0],
        "name": "age_at_visit_months",
        "renamed_from": "age_months",
    }
    return schema


def test_version_list_shows_how_many_submissions_each_holds(client, curator):
    publish_form(assessment_schema())
    client.force_login(curator)
    page = client.get("/admin/crfs/formversion/").content.decode()
    assert "assessment" in page and "Publish new versions from forms/" in page


def test_version_page_shows_the_difference_with_the_previous_version(client, curator):
    publish_form(assessment_schema())
    v2 = publish_form(renamed_v2())
    client.force_login(curator)
    page = client.get(f"/admin/crfs/formversion/{v2.pk}/change/").content.decode()
    assert "Changes from version 1 to version 2" in page
    assert "age_months → age_at_visit_months" in page


def test_publishing_shows_the_changes_and_needs_confirmation(client, curator, forms_root):
    publish_form(assessment_schema())
    write(forms_root, assessment_schema())
    write(forms_root, renamed_v2())
    client.force_login(curator)

    page = client.get("/admin/crfs/formversion/publish/").content.decode()
    assert "assessment version 2" in page and "age_months → age_at_visit_months" in page

    client.post("/admin/crfs/formversion/publish/", {})
    assert not FormVersion.objects.filter(number=2).exists()

    client.post("/admin/crfs/formversion/publish/", {"confirm": "yes"})
    assert FormVersion.objects.get(number=2).published_by == curator
    assert AuditEvent.objects.filter(action="form_version.publish", actor=curator).exists()


def test_a_changed_published_version_is_shown_as_a_problem_and_not_offered(
    client, curator, forms_root
):
    publish_form(assessment_schema())
    write(forms_root, assessment_schema(title="Edited in place"))
    client.force_login(curator)
    page = client.get("/admin/crfs/formversion/publish/").content.decode()
    assert "already published with different content" in page
    assert 'value="Publish"' not in page
    client.post("/admin/crfs/formversion/publish/", {"confirm": "yes"})
    assert FormVersion.objects.get().schema["title"] == "Assessment"


def test_coordinators_cannot_publish(client, coordinator_a, forms_root):
    write(forms_root, assessment_schema())
    client.force_login(coordinator_a)
    client.post("/admin/crfs/formversion/publish/", {"confirm": "yes"})
    assert not FormVersion.objects.exists()
