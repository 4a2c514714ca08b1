"""At the password step of signing in: the session's clocks start, and a second step is noted
for someone who enrolled a device although their role does not require one."""

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from .models import User
from .sessions import note_session_start
from .two_factor import note_sign_in


@receiver(user_logged_in)
def start_session(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    note_session_start(request)
    note_sign_in(request, user)
