"""Test data builders, in one place. Every object here is synthetic."""

import factory
from django.conf import settings
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from factory.django import DjangoModelFactory

from registry.patients.models import Patient
from registry.people.models import Role, Site, SiteMembership, User
from registry.people.two_factor import CODE_DUE_SESSION_KEY

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class SiteFactory(DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"S{n:03d}")
    name = factory.LazyAttribute(lambda site: f"Hospital {site.code}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.COORDINATOR
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def sites(self, create: bool, extracted: list[Site] | None, **kwargs: object) -> None:
        if create and extracted:
            for site in extracted:
                SiteMembership.objects.create(user=self, site=site)
        if create:
            self.save()


class PatientFactory(DjangoModelFactory):
    class Meta:
        model = Patient

    site = factory.SubFactory(SiteFactory)
    pseudonym = factory.Sequence(lambda n: f"P-{n:06d}")
    sex = "male"
    year_of_birth = 2016


def assessment_schema(version: int = 1, **changes: object) -> dict:
    """A small repeatable form with a yes/no gate, a branching grade and free text."""
    schema = {
        "form": "assessment",
        "version": version,
        "title": "Assessment",
        "repeatable": True,
        "fields": [
            {
                "name": "age_months",
                "type": "text",
                "label": "Age at assessment (months)",
                "validation": "integer",
                "min": 0,
                "max": 1200,
                "required": True,
            },
            {
                "name": "mm_present",
                "type": "yesno",
                "label": "Mirror movements present",
                "required": True,
            },
            {
                "name": "wt_grade",
                "type": "radio",
                "label": "Woods & Teuber grade",
                "choices": [{"code": str(grade), "label": f"Grade {grade}"} for grade in range(5)],
                "show_if": "[mm_present] = '1'",
            },
            {"name": "findings", "type": "notes", "label": "Other findings"},
        ],
    }
    schema.update(changes)
    return schema


def publish_form(schema: dict):
    from registry.crfs.services import do_publish_form_version
    from registry.formengine.schema import load_schema

    return do_publish_form_version(None, load_schema(schema))


def registry_form_versions() -> dict:
    """Publish every CRF version in forms/ (as `manage.py sync_forms` does); returns
    {(form name, version number): FormVersion}."""
    from pathlib import Path

    from django.conf import settings

    from registry.crfs.models import FormVersion
    from registry.crfs.services import do_sync_forms, read_form_files

    do_sync_forms(None, read_form_files(Path(settings.BASE_DIR) / "forms"))
    return {
        (version.form.name, version.number): version
        for version in FormVersion.objects.select_related("form")
    }


def enter_submission(user, patient, form_version, data: dict, **options):
    """A submission saved through the same service as the pages (validated and audited)."""
    from registry.submissions.services import do_save_submission

    return do_save_submission(user, patient, form_version, data, **options).submission


# --- The registry's own forms and API tokens (exchange and API tests) -----------------------


def api_token_for(user: User, name: str = "tests") -> str:
    """A fresh API token for `user` (the token itself; only its hash is stored)."""
    from registry.people.services import do_create_api_token

    return do_create_api_token(None, user, name=name)[1]


def authenticator_for(user: User) -> TOTPDevice:
    """The person's confirmed authenticator app, made if they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    """The 6 digits the person's authenticator app shows now."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def verify_session(client, user: User) -> None:
    """Mark a test client's session as past the second step, where the user's role needs one or
    they set up an app, as a real code at /two-factor/verify/ would."""
    enrolled = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    if user.role not in settings.OTP_REQUIRED_ROLES and not enrolled:
        return
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = authenticator_for(user).persistent_id
    session.pop(CODE_DUE_SESSION_KEY, None)
    session.save()
