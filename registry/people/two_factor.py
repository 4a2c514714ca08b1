"""Two-factor sign-in: an authenticator app's 6-digit code (TOTP) after the password, with
recovery codes for a lost phone (django-otp's TOTP and static devices).

Who must: the roles in OTP_REQUIRED_ROLES (curators and administrators), before any page opens.
Who may: everyone else enrols from their account page, and is then asked for the code too.
A person's authenticator app is one confirmed TOTP device; their recovery codes are one static
device, made with it. Wrong codes are throttled per device by django-otp (each doubles the wait
before the next try) and every one is audited; an administrator removes the devices of someone
who lost theirs, and they enrol again at their next sign-in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import segno
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http import HttpRequest
from django_otp.models import Device, VerifyNotAllowed
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from drf_spectacular.authentication import SessionScheme
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from registry.audit.services import record_event

from .models import User

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "authenticator app"
RECOVERY_CODES_NAME = "recovery codes"
# Set at sign-in for someone who enrolled a device although their role does not require one:
# they give its code before going on, as everyone with a device does.
CODE_DUE_SESSION_KEY = "two_factor_due"


def is_required_for(user: User | AnonymousUser | AbstractBaseUser) -> bool:
    """Whether `user`'s role must sign in with a second factor."""
    return bool(
        user.is_authenticated and getattr(user, "role", None) in settings.OTP_REQUIRED_ROLES
    )


def has_authenticator(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def second_step_due(request: HttpRequest) -> str | None:
    """What a signed-in person must still do before any page opens: "verify" (give a code),
    "enrol" (set up an authenticator app first), or None."""
    user = request.user
    if not user.is_authenticated or user.is_verified():  # type: ignore[union-attr]
        return None
    if is_required_for(user):
        return "verify" if has_authenticator(user) else "enrol"  # type: ignore[arg-type]
    if request.session.get(CODE_DUE_SESSION_KEY):
        return "verify"
    return None


def note_sign_in(request: HttpRequest, user: User) -> None:
    """At the password step: someone of an optional role who enrolled a device owes its code."""
    if not is_required_for(user) and has_authenticator(user):
        request.session[CODE_DUE_SESSION_KEY] = True


# --------------------------------------------------------------------------------------------
# Enrolment


def pending_authenticator(user: User) -> TOTPDevice:
    """The not yet confirmed authenticator being set up, made on first sight; its secret stays
    the same across reloads of the enrolment page until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def secret_text(device: TOTPDevice) -> str:
    """The secret as an app asks for it when typed in: base32, in groups of four."""
    secret = re.search(r"secret=([A-Z2-7]+)", device.config_url)
    letters = secret.group(1) if secret else ""
    return " ".join(letters[i : i + 4] for i in range(0, len(letters), 4))


def qr_code_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an SVG QR code, made here: no script, no outside service."""
    svg: str = segno.make(device.config_url, error="m").svg_inline(
        scale=5,
        dark="#000",
        light="#fff",
        title="QR code for your authenticator app",
        svgclass="two-factor-qr",
        lineclass=None,
    )
    return svg


def _normalised(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()[:32]


def do_enrol_authenticator(user: User, device_id: int, code: str) -> list[str] | None:
    """Confirm the authenticator being set up with a code it shows. On success the person's
    older devices are replaced, new recovery codes are made and returned (to be shown once),
    and `otp.enrol` is audited; a wrong code is audited as `otp.verify_failed`, None returned.
    """
    code = _normalised(code)
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(pk=device_id, user=user, confirmed=False)
            .first()
        )
        if device is None or not device.verify_token(code):
            _record_failure(user, device, "enrol", code)
            return None
        for old in [
            *TOTPDevice.objects.filter(user=user).exclude(pk=device.pk),
            *StaticDevice.objects.filter(user=user),
        ]:
            old.delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        recovery = StaticDevice.objects.create(user=user, name=RECOVERY_CODES_NAME, confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=recovery, token=c) for c in codes)
        record_event(
            user,
            "otp.enrol",
            user,
            context={"device": AUTHENTICATOR_NAME, "recovery_codes": len(codes)},
        )
    return codes


# --------------------------------------------------------------------------------------------
# The code at sign-in


@dataclass(frozen=True)
class CodeCheck:
    """The outcome of a code given at sign-in: the device it matched, or why it was refused."""

    device: Device | None = None
    wait_until: datetime | None = None
    recovery_codes_left: int | None = None


def do_verify_code(user: User, code: str) -> CodeCheck:
    """Check a code from the authenticator app (6 digits) or a recovery code (letters and
    digits, each good once). A match is audited as `otp.verify`; a wrong code, or any code while
    the device makes the person wait after earlier wrong ones, as `otp.verify_failed`."""
    code = _normalised(code)
    method = "totp" if code.isdigit() else "recovery_code"
    model: type[Device] = TOTPDevice if method == "totp" else StaticDevice
    with transaction.atomic():
        devices = list(
            model.objects.select_for_update()  # type: ignore[attr-defined]
            .filter(user=user, confirmed=True)
            .order_by("pk")
        )
        for device in devices:
            allowed, why = device.verify_is_allowed()
            if not allowed:
                _record_failure(user, device, "sign_in", code, throttled=True)
                return CodeCheck(wait_until=_wait_until(why))
            if code and device.verify_token(code):
                left = device.token_set.count() if method == "recovery_code" else None
                record_event(
                    user,
                    "otp.verify",
                    user,
                    context={
                        "method": method,
                        **({"recovery_codes_left": left} if left is not None else {}),
                    },
                )
                return CodeCheck(device=device, recovery_codes_left=left)
        _record_failure(user, devices[0] if devices else None, "sign_in", code)
    return CodeCheck()


def _wait_until(why: dict[str, Any] | None) -> datetime | None:
    if why and why.get("reason") == VerifyNotAllowed.N_FAILED_ATTEMPTS:
        until: datetime | None = why.get("locked_until")
        return until
    return None


def _record_failure(
    user: User, device: Device | None, stage: str, code: str, throttled: bool = False
) -> None:
    # Never the code itself: a near miss of a recovery code still says much about it.
    record_event(
        user,
        "otp.verify_failed",
        user,
        context={
            "stage": stage,
            "method": "totp" if code.isdigit() else "recovery_code",
            "failures": getattr(device, "throttling_failure_count", 0),
            **({"throttled": True} if throttled else {}),
        },
    )


# --------------------------------------------------------------------------------------------
# Removal


def do_reset_two_factor(actor: User | None, user: User) -> int:
    """An administrator removes every device of `user` (a lost or replaced phone): they set up
    a new authenticator at their next sign-in. Their sessions that passed the second step with
    a removed device no longer count as having passed it. Audited as `otp.device_reset`."""
    return _remove_devices(actor, user, "otp.device_reset")


def do_remove_own_two_factor(user: User) -> int:
    """Someone whose role does not require a second factor turns theirs off."""
    if is_required_for(user):
        raise PermissionError(
            "Your role signs in with an authenticator app; an administrator can reset a lost one."
        )
    return _remove_devices(user, user, "otp.device_remove")


def _remove_devices(actor: User | None, user: User, action: str) -> int:
    with transaction.atomic():
        removed = 0
        for model in (TOTPDevice, StaticDevice):
            # Devices, not the recovery codes deleted with them.
            _, per_model = model.objects.filter(user=user).delete()  # type: ignore[attr-defined]
            removed += per_model.get(model._meta.label, 0)
        record_event(actor, action, user, context={"removed": removed})
    return removed


# --------------------------------------------------------------------------------------------
# The API


class VerifiedSessionAuthentication(authentication.SessionAuthentication):
    """DRF's session authentication, refused while the session's second step is due: without
    it a curator's password alone could make API tokens. Tokens themselves are unaffected."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        found = super().authenticate(request)
        if found is not None and second_step_due(request._request):
            raise exceptions.PermissionDenied(
                "Finish signing in first: give the code from your authenticator app at "
                "/two-factor/verify/ (or set one up at /two-factor/enrol/)."
            )
        return found


class VerifiedSessionScheme(SessionScheme):
    """The OpenAPI schema describes it as the session cookie it is."""

    target_class = "registry.people.two_factor.VerifiedSessionAuthentication"
