"""Publishing a form version is refused when it takes away a field or a choice code that a
data-quality rule reads (forms/quality_rules.yaml), naming the file, the rule and the field,
and nothing of the refused run is written."""

from pathlib import Path

import pytest
import yaml
from django.conf import settings

from registry.crfs.models import FormVersion
from registry.crfs.services import FormSyncError, do_sync_forms, read_form_files

pytestmark = pytest.mark.django_db

FORMS = Path(settings.BASE_DIR) / "forms"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The registry's forms, published, and a copy of their files to change."""
    do_sync_forms(None, read_form_files(FORMS))
    copy = tmp_path / "forms"
    for path in FORMS.glob("*/v*.yaml"):
        (copy / path.parent.name).mkdir(parents=True, exist_ok=True)
        (copy / path.parent.name / path.name).write_text(path.read_text())
    return copy


def next_version(root: Path, form: str, change) -> None:
    """A next version of `form` whose fields are those of the latest one, changed."""
    versions = sorted(root.glob(f"{form}/v*.yaml"), key=lambda p: int(p.stem[1:]))
    schema = yaml.safe_load(versions[-1].read_text())
    schema["version"] += 1
    for field in schema["fields"]:
        field.pop("renamed_from", None)  # a rename is from the version before
    change(schema["fields"])
    (root / form / f"v{schema['version']}.yaml").write_text(yaml.safe_dump(schema))


def named(fields: list[dict], name: str) -> dict:
    return next(f for f in fields if f["name"] == name)


def refusal(root: Path) -> list[str]:
    with pytest.raises(FormSyncError) as refused:
        do_sync_forms(None, read_form_files(root))
    return refused.value.problems


def test_renaming_a_field_a_cross_form_rule_reads_is_refused_naming_the_rule(root):
    def rename(fields):
        field = named(fields, "lesion_instance")
        field["name"], field["renamed_from"] = "lesion_number", "lesion_instance"

    next_version(root, "surgery", rename)
    problems = refusal(root)
    # The rules reading the fields the version kept are not blamed.
    assert problems == [
        "quality_rules.yaml cross_form.surgery_without_lesion: lesion_number reads "
        "surgery.lesion_instance, which is not a field of surgery v2 (renamed lesion_number in "
        "v2: name it surgery.lesion_number)",
        "quality_rules.yaml outlier_sd_skip[0]: 'lesion_instance' is not a field of surgery "
        "(did you mean lesion_number?)",
    ]
    assert not FormVersion.objects.filter(form__name="surgery", number=2).exists()


def test_dropping_a_field_a_cross_form_rule_reads_is_refused(root):
    def drop_pathology(fields):
        fields.remove(named(fields, "pathology_type"))
        fields.remove(named(fields, "pathology_type_other"))

    next_version(root, "surgery", drop_pathology)
    problems = refusal(root)
    assert problems == [
        "quality_rules.yaml cross_form.dermoid_without_sinus: pathology reads "
        "surgery.pathology_type, which surgery v2 no longer has; name a field the form "
        "still asks"
    ]
    assert not FormVersion.objects.filter(form__name="surgery", number=2).exists()


def test_dropping_a_choice_code_a_cross_form_rule_looks_for_is_refused(root):
    def drop_dermoid(fields):
        field = named(fields, "tumour_type")
        field["choices"] = [c for c in field["choices"] if c["code"] != "dermoid"]

    next_version(root, "dysraphic_lesion", drop_dermoid)
    problems = refusal(root)
    assert (
        "quality_rules.yaml cross_form.dermoid_without_sinus: dermoid_codes names 'dermoid', "
        "which is not a choice of dysraphic_lesion.tumour_type in dysraphic_lesion v2 (its "
        "choices: epidermoid, undetermined)"
    ) in problems
    assert not FormVersion.objects.filter(form__name="dysraphic_lesion", number=2).exists()


def test_renaming_a_field_a_custom_rule_reads_is_refused_naming_the_rule(root):
    def rename(fields):
        field = named(fields, "onset_age_months")
        field["name"], field["renamed_from"] = "onset_age", "onset_age_months"

    next_version(root, "mirror_movements", rename)
    problems = refusal(root)
    assert [problem for problem in problems if problem.startswith("quality_rules.yaml")] == [
        "quality_rules.yaml rules[2] (onset_after_assessment): 'onset_age_months' is not a field "
        "of mirror_movements (did you mean mm_age_months?)",
        "quality_rules.yaml rules[2] (onset_after_assessment): [onset_age_months] is not a field "
        "of mirror_movements (did you mean mm_age_months?)",
    ]
    assert not FormVersion.objects.filter(form__name="mirror_movements", number=3).exists()


def test_a_version_keeping_what_the_rules_read_is_published(root):
    next_version(
        root,
        "surgery",
        lambda fields: named(fields, "lesion_instance").update(
            label="Which lesion was operated on"
        ),
    )
    assert do_sync_forms(None, read_form_files(root)).published == ["surgery v2"]
