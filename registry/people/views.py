"""The second step of signing in: set up an authenticator app, give its code, manage it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from . import two_factor
from .two_factor import (
    CODE_DUE_SESSION_KEY,
    do_enrol_authenticator,
    do_remove_own_two_factor,
    do_verify_code,
    has_authenticator,
    pending_authenticator,
    qr_code_svg,
    secret_text,
)


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


def _passed(request: HttpRequest, device: two_factor.Device) -> None:
    # A new session key for the fuller sign-in, as at the password step.
    request.session.cycle_key()
    otp_login(request, device)
    request.session.pop(CODE_DUE_SESSION_KEY, None)


@login_required
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    user = request.user
    if has_authenticator(user) and not user.is_verified():  # type: ignore[union-attr]
        # Replacing an authenticator takes the current one's code first.
        return redirect(f"{reverse('two_factor_verify')}?next={reverse('two_factor_enrol')}")
    device = pending_authenticator(user)  # type: ignore[arg-type]
    error = ""
    if request.method == "POST":
        codes = do_enrol_authenticator(
            user,
            device.pk,  # type: ignore[arg-type]
            request.POST.get("code", ""),
        )
        if codes is not None:
            device.refresh_from_db()
            _passed(request, device)
            return render(
                request,
                "registration/two_factor_recovery_codes.html",
                {"codes": codes, "next": _next(request)},
            )
        error = (
            "That code did not match. Type the 6 digits your app shows now for this "
            "registry (they change every 30 seconds), and check the phone's clock."
        )
    return render(
        request,
        "registration/two_factor_enrol.html",
        {
            "qr_code": qr_code_svg(device),
            "secret": secret_text(device),
            "error": error,
            "next": _next(request),
            "required": two_factor.is_required_for(user),
        },
        status=400 if error else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_verified() or not has_authenticator(user):  # type: ignore[union-attr,arg-type]
        # Nothing to give a code for (an administrator may have just reset the device): the
        # pages decide whether an app must be set up first.
        request.session.pop(CODE_DUE_SESSION_KEY, None)
        return redirect(_next(request))
    error = ""
    if request.method == "POST":
        check = do_verify_code(user, request.POST.get("code", ""))  # type: ignore[arg-type]
        if check.device is not None:
            _passed(request, check.device)
            if check.recovery_codes_left is not None:
                messages.warning(
                    request,
                    ngettext(
                        "You signed in with a recovery code; %(left)d is left, good once. Set "
                        "up your authenticator again from “Two-factor sign-in” to get new ones.",
                        "You signed in with a recovery code; %(left)d are left, each good once. "
                        "Set up your authenticator again from “Two-factor sign-in” to get new "
                        "ones.",
                        check.recovery_codes_left,
                    )
                    % {"left": check.recovery_codes_left},
                )
            return redirect(_next(request))
        if check.wait_until is not None:
            error = (
                f"Too many wrong codes: try again after "
                f"{check.wait_until:%H:%M:%S} UTC. Each wrong code doubles the wait."
            )
        else:
            error = (
                "That code did not match. Type the 6 digits your authenticator app shows "
                "now, or one of your recovery codes."
            )
    return render(
        request,
        "registration/two_factor_verify.html",
        {"error": error, "next": _next(request)},
        status=400 if error else 200,
    )


@login_required
def account(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "registration/two_factor.html",
        {
            "enrolled": has_authenticator(request.user),  # type: ignore[arg-type]
            "required": two_factor.is_required_for(request.user),
        },
    )


@login_required
@require_POST
def remove(request: HttpRequest) -> HttpResponse:
    try:
        do_remove_own_two_factor(request.user)  # type: ignore[arg-type]
    except PermissionError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "Two-factor sign-in is off: your password alone signs you in.")
    return redirect("two_factor")
