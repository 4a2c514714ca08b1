"""Two-factor sign-in: curators and administrators set up an authenticator app and give its
code after their password before anything opens; others may (docs/security.md)."""

import io
import os
import re
import subprocess
import sys
from base64 import b32encode
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from registry.audit.models import AuditEvent
from registry.people.models import ApiToken, Role
from registry.people.two_factor import do_enrol_authenticator, pending_authenticator
from tests.factories import DEFAULT_PASSWORD, UserFactory, authenticator_for, current_code

pytestmark = pytest.mark.django_db


def sign_in(client, user, next_url="/admin/"):
    """The password step, as a browser does it; returns where it was sent."""
    response = client.post(
        f"/login/?next={next_url}",
        {"username": user.username, "password": DEFAULT_PASSWORD, "next": next_url},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return client.get(response["Location"])


def code_of_pending(user):
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    return f"{totp(device.bin_key):06d}"


def enrolled(user):
    """A person who has set up their app: returns their recovery codes."""
    device = pending_authenticator(user)
    return do_enrol_authenticator(user, device.pk, f"{totp(device.bin_key):06d}")


def actions_of(user):
    return list(
        AuditEvent.objects.filter(actor=user).order_by("pk").values_list("action", flat=True)
    )


def test_a_curator_with_no_app_is_asked_to_set_one_up_after_the_password(client, curator):
    response = sign_in(client, curator)
    assert response.status_code == 302
    assert response["Location"] == "/two-factor/enrol/?next=%2Fadmin%2F"
    assert client.get("/admin/submissions/submission/").status_code == 302
    assert client.get("/").status_code == 302


def test_enrolment_end_to_end_with_a_real_code_opens_the_admin(client, curator):
    sign_in(client, curator)
    page = client.get("/two-factor/enrol/?next=/admin/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and "<script" not in html.split("</main>")[0]
    device = TOTPDevice.objects.get(user=curator, confirmed=False)
    secret = b32encode(device.bin_key).decode()
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in html
    # The same secret on a reload: a person halfway through scanning is not confused.
    assert client.get("/two-factor/enrol/").content.decode().count(secret[:4]) == 1
    assert TOTPDevice.objects.filter(user=curator).count() == 1

    done = client.post("/two-factor/enrol/", {"code": code_of_pending(curator), "next": "/admin/"})
    assert done.status_code == 200
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", done.content.decode())
    assert len(codes) == 10
    assert sorted(codes) == sorted(
        StaticToken.objects.filter(device__user=curator).values_list("token", flat=True)
    )
    assert TOTPDevice.objects.get(user=curator).confirmed
    assert client.get("/admin/").status_code == 200
    event = AuditEvent.objects.get(action="otp.enrol")
    assert event.actor == curator and event.context["recovery_codes"] == 10
    # Shown once: the account page does not show them again.
    assert codes[0] not in client.get("/two-factor/").content.decode()


def test_a_wrong_code_at_enrolment_is_refused_and_audited(client, curator):
    sign_in(client, curator)
    client.get("/two-factor/enrol/")
    right = code_of_pending(curator)
    wrong = f"{(int(right) + 1) % 1000000:06d}"
    response = client.post("/two-factor/enrol/", {"code": wrong})
    assert response.status_code == 400 and "did not match" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=curator, confirmed=True).exists()
    assert client.get("/admin/").status_code == 302
    event = AuditEvent.objects.get(action="otp.verify_failed")
    assert event.actor == curator and event.context["stage"] == "enrol"
    assert wrong not in str(event.context)


def test_a_curator_with_an_app_gives_its_code_after_the_password(client, curator):
    device = authenticator_for(curator)
    response = sign_in(client, curator)
    assert response["Location"] == "/two-factor/verify/?next=%2Fadmin%2F"
    page = client.get(response["Location"])
    assert page.status_code == 200 and "authenticator app" in page.content.decode()
    passed = client.post("/two-factor/verify/", {"code": current_code(device), "next": "/admin/"})
    assert passed.status_code == 302 and passed["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/submissions/submission/").status_code == 200
    assert actions_of(curator)[-3:-1] == ["login", "otp.verify"]


def test_a_wrong_code_at_sign_in_is_refused_audited_and_counted(client, curator):
    device = authenticator_for(curator)
    sign_in(client, curator)
    wrong = f"{(int(current_code(device)) + 1) % 1000000:06d}"
    response = client.post("/two-factor/verify/", {"code": wrong, "next": "/admin/"})
    assert response.status_code == 400 and "did not match" in response.content.decode()
    assert client.get("/admin/").status_code == 302
    event = AuditEvent.objects.get(action="otp.verify_failed")
    assert event.actor == curator and event.context == {
        "stage": "sign_in",
        "method": "totp",
        "failures": 1,
    }
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


def test_after_many_wrong_codes_even_the_right_one_waits(client, curator):
    device = authenticator_for(curator)
    # Five wrong codes in a row, just now: the next try must wait 16 seconds.
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=5, throttling_failure_timestamp=timezone.now()
    )
    sign_in(client, curator)
    response = client.post("/two-factor/verify/", {"code": current_code(device)})
    assert response.status_code == 400
    assert "Too many wrong codes: try again after" in response.content.decode()
    assert client.get("/admin/").status_code == 302
    assert AuditEvent.objects.get(action="otp.verify_failed").context["throttled"] is True
    # Once the wait is over the right code works.
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(seconds=17)
    )
    assert client.post("/two-factor/verify/", {"code": current_code(device)}).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_recovery_code_signs_in_once(client, curator):
    codes = enrolled(curator)
    sign_in(client, curator)
    used = client.post("/two-factor/verify/", {"code": codes[0].upper(), "next": "/admin/"})
    assert used.status_code == 302 and used["Location"] == "/admin/"
    assert "9 are left" in client.get("/admin/").content.decode()
    event = AuditEvent.objects.filter(action="otp.verify").last()
    assert event.context == {"method": "recovery_code", "recovery_codes_left": 9}

    client.post("/logout/")
    sign_in(client, curator)
    again = client.post("/two-factor/verify/", {"code": codes[0]})
    assert again.status_code == 400
    assert client.get("/admin/").status_code == 302
    # After the wait a wrong code imposes (1 second), another unused code works.
    StaticDevice.objects.filter(user=curator).update(
        throttling_failure_timestamp=timezone.now() - timedelta(seconds=2)
    )
    assert client.post("/two-factor/verify/", {"code": codes[1]}).status_code == 302


def test_an_unverified_session_cannot_set_up_a_new_app_instead_of_giving_a_code(client, curator):
    authenticator_for(curator)
    sign_in(client, curator)
    response = client.get("/two-factor/enrol/")
    assert response.status_code == 302 and response["Location"].startswith("/two-factor/verify/")
    client.post("/two-factor/enrol/", {"code": "123456"})
    assert TOTPDevice.objects.filter(user=curator).count() == 1


def test_an_administrator_resets_a_lost_device_and_the_person_enrols_again(
    client, admin_user, curator
):
    enrolled(curator)
    client.force_login(admin_user)
    response = client.post(
        "/admin/people/user/", {"action": "reset_two_factor", "_selected_action": [curator.pk]}
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=curator).exists()
    assert not StaticDevice.objects.filter(user=curator).exists()
    event = AuditEvent.objects.get(action="otp.device_reset")
    assert event.actor == admin_user and event.object_id == str(curator.pk)
    assert event.context == {"removed": 2}

    other = type(client)()
    assert sign_in(other, curator)["Location"].startswith("/two-factor/enrol/")


def test_the_shell_resets_a_device_too(curator):
    enrolled(curator)
    out = io.StringIO()
    call_command("reset_two_factor", curator.username, stdout=out)
    assert "reset" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=curator).exists()
    event = AuditEvent.objects.get(action="otp.device_reset")
    assert event.actor is None and event.object_id == str(curator.pk)


def test_a_removed_device_no_longer_counts_for_a_session_that_used_it(client, curator):
    client.force_login(curator)
    assert client.get("/admin/").status_code == 200
    TOTPDevice.objects.filter(user=curator).delete()
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/two-factor/enrol/")


def test_a_coordinator_signs_in_with_the_password_alone(client, coordinator_a):
    response = sign_in(client, coordinator_a, next_url="/")
    assert response.status_code == 200


def test_a_coordinator_who_set_up_an_app_is_asked_for_its_code(client, coordinator_a):
    enrolled(coordinator_a)
    response = sign_in(client, coordinator_a, next_url="/")
    assert response["Location"] == "/two-factor/verify/?next=%2F"
    assert client.get("/queries/").status_code == 302
    device = TOTPDevice.objects.get(user=coordinator_a)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    assert client.post("/two-factor/verify/", {"code": current_code(device)}).status_code == 302
    assert client.get("/queries/").status_code == 200


def test_a_coordinator_may_turn_their_app_off_and_a_curator_may_not(client, coordinator_a, curator):
    enrolled(coordinator_a)
    client.force_login(coordinator_a)
    client.post("/two-factor/remove/")
    assert not TOTPDevice.objects.filter(user=coordinator_a).exists()
    assert AuditEvent.objects.get(action="otp.device_remove").actor == coordinator_a

    client.force_login(curator)
    response = client.post("/two-factor/remove/", follow=True)
    assert "administrator can reset" in response.content.decode()
    assert TOTPDevice.objects.filter(user=curator, confirmed=True).exists()


def test_the_password_step_still_locks_a_curator_out_after_five_wrong_passwords(client, curator):
    for _ in range(5):
        client.post("/login/", {"username": curator.username, "password": "wrong-password"})
    response = client.post("/login/", {"username": curator.username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 429
    assert client.get("/admin/").status_code == 302


def test_an_unverified_curator_session_cannot_make_api_tokens(curator):
    client = APIClient()
    client.post("/login/", {"username": curator.username, "password": DEFAULT_PASSWORD})
    response = client.post("/api/v1/tokens/", {"name": "scripts"}, format="json")
    assert response.status_code == 403 and "two-factor" in response.json()["detail"]
    assert not ApiToken.objects.exists()


def test_a_verified_curator_session_makes_tokens_and_tokens_need_no_code(curator):
    device = authenticator_for(curator)
    client = APIClient()
    client.post("/login/", {"username": curator.username, "password": DEFAULT_PASSWORD})
    client.post("/two-factor/verify/", {"code": current_code(device)})
    response = client.post("/api/v1/tokens/", {"name": "scripts"}, format="json")
    assert response.status_code == 201
    script = APIClient()
    script.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert script.get("/api/v1/sites/").status_code == 200


def test_researchers_may_set_up_an_app_too(client):
    researcher = UserFactory(role=Role.RESEARCHER)
    assert sign_in(client, researcher, next_url="/statistics/").status_code == 200
    client.get("/two-factor/enrol/")
    done = client.post("/two-factor/enrol/", {"code": code_of_pending(researcher)})
    assert done.status_code == 200 and "shown <strong>only this once" in done.content.decode()


def test_production_refuses_to_start_with_two_factor_off_for_curators():
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "registry.settings.production",
        "SECRET_KEY": "s" * 60,
        "REGISTRY_PSEUDONYM_KEY": "p" * 60,
        "OTP_REQUIRED_ROLES": "admin",
    }
    result = subprocess.run(
        [sys.executable, str(root / "manage.py"), "check"],
        env=env,
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert result.returncode != 0
    assert "OTP_REQUIRED_ROLES must include curator and admin" in result.stderr


def test_a_coordinator_whose_app_was_reset_at_the_code_page_goes_on_with_the_password(
    client, coordinator_a
):
    enrolled(coordinator_a)
    sign_in(client, coordinator_a, next_url="/queries/")
    TOTPDevice.objects.filter(user=coordinator_a).delete()
    response = client.get("/two-factor/verify/?next=/queries/", follow=True)
    assert response.status_code == 200 and response.redirect_chain[-1][0] == "/queries/"
