"""Publishing form versions from files: idempotent, and never a silent overwrite."""

import io
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from registry.audit.models import AuditEvent
from registry.crfs.models import FormDefinition, FormVersion, PublishedVersionIsImmutable
from registry.crfs.services import FormSyncError, do_sync_forms, read_form_files
from tests.factories import assessment_schema

pytestmark = pytest.mark.django_db

FORMS = Path(__file__).resolve().parents[2] / "forms"


def write(root: Path, schema: dict) -> Path:
    path = root / schema["form"] / f"v{schema['version']}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(schema, sort_keys=False), encoding="utf-8")
    return path


def sync(root: Path):
    return do_sync_forms(None, read_form_files(root))


def test_the_registry_forms_all_load():
    report = sync(FORMS)
    files = sorted(FORMS.glob("*/v*.yaml"))
    assert len(report.published) == len(files) >= 6
    assert FormDefinition.objects.filter(name="mirror_movements").get().versions.count() == 2


def test_syncing_again_changes_nothing():
    sync(FORMS)
    events = AuditEvent.objects.count()
    report = sync(FORMS)
    assert report.published == []
    assert len(report.unchanged) == FormVersion.objects.count()
    assert AuditEvent.objects.count() == events


def test_yaml_formatting_alone_is_not_a_change(tmp_path):
    write(tmp_path, assessment_schema())
    sync(tmp_path)
    path = tmp_path / "assessment" / "v1.yaml"
    path.write_text("# a comment\n" + path.read_text(), encoding="utf-8")
    assert sync(tmp_path).published == []


def test_a_changed_published_version_is_refused_and_nothing_changes(tmp_path):
    original = assessment_schema()
    write(tmp_path, original)
    sync(tmp_path)
    changed = assessment_schema(title="Assessment (edited)")
    write(tmp_path, changed)
    write(tmp_path, assessment_schema(version=2))

    with pytest.raises(FormSyncError) as error:
        sync(tmp_path)
    assert "assessment v1 is already published with different content" in str(error.value)
    assert "version 3 instead" in str(error.value)
    version = FormVersion.objects.get(form__name="assessment", number=1)
    assert version.schema == original
    assert not FormVersion.objects.filter(number=2).exists()


def test_a_new_version_loads_beside_the_old_one(tmp_path):
    write(tmp_path, assessment_schema())
    sync(tmp_path)
    write(tmp_path, assessment_schema(version=2, title="Assessment, second edition"))
    assert sync(tmp_path).published == ["assessment v2"]
    form = FormDefinition.objects.get(name="assessment")
    assert list(form.versions.values_list("number", flat=True)) == [1, 2]
    assert form.title == "Assessment, second edition"


def test_a_file_in_the_wrong_place_is_refused(tmp_path):
    path = write(tmp_path, assessment_schema(version=2))
    path.rename(tmp_path / "assessment" / "v1.yaml")
    with pytest.raises(FormSyncError, match="says form 'assessment' version 2"):
        sync(tmp_path)
    assert not FormVersion.objects.exists()


def test_an_invalid_schema_names_the_file_and_nothing_is_published(tmp_path):
    write(tmp_path, assessment_schema())
    broken = assessment_schema()
    broken["form"] = "broken"
    broken["fields"][0]["type"] = "sql"
    write(tmp_path, broken)
    with pytest.raises(FormSyncError) as error:
        sync(tmp_path)
    assert "broken/v1.yaml" in str(error.value)
    assert not FormVersion.objects.exists()


def test_a_published_version_cannot_be_edited(tmp_path):
    write(tmp_path, assessment_schema())
    sync(tmp_path)
    version = FormVersion.objects.get()
    version.schema = {"form": "assessment"}
    with pytest.raises(PublishedVersionIsImmutable):
        version.save()


def test_sync_forms_command_reports_and_refuses(tmp_path):
    write(tmp_path, assessment_schema())
    out = io.StringIO()
    call_command("sync_forms", "--path", str(tmp_path), stdout=out)
    assert "published assessment v1" in out.getvalue()
    write(tmp_path, assessment_schema(title="Changed"))
    with pytest.raises(CommandError, match="Nothing was published"):
        call_command("sync_forms", "--path", str(tmp_path), stdout=io.StringIO())


def test_a_version_renaming_a_field_its_predecessor_lacks_is_refused_and_nothing_published(
    tmp_path,
):
    write(tmp_path, assessment_schema())
    sync(tmp_path)
    v2 = assessment_schema(version=2)
    v2["fields"][0] = {**v2["fields"][0], "name": "age_now", "renamed_from": "no_such_field"}
    write(tmp_path, v2)
    with pytest.raises(FormSyncError) as refused:
        sync(tmp_path)
    assert "v2.yaml" in str(refused.value)
    assert "'no_such_field', which is not a field of v1" in str(refused.value)
    assert FormVersion.objects.count() == 1
