"""A password validator for what Django's own miss: a guessable word dressed up with digits.

Django's common-password list holds "password" but not "Password2024!", and nothing in it
knows this registry's name, so "Registry2024" passes length, common-password and numeric checks
alike. Guessers try exactly these first: the service's name or a common word, capitalised, with a
year or a "!" around it. Listed in AUTH_PASSWORD_VALIDATORS, so it applies wherever Django's
validators do (the create_user command and its service, the admin's user forms, the
password-change page).
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError

# The words anyone attacking this registry would try first.
REGISTRY_WORDS = ("registry", "mirror", "mirrors", "movement", "movements", "mirrormovements")
_DECORATION = string.digits + string.punctuation + string.whitespace


class GuessableWordValidator:
    """Refuses a password that is one common word or one of the registry's own words with only
    digits, symbols or spaces before or after it ("Registry2024", "Password1!")."""

    def __init__(self, words: Iterable[str] = REGISTRY_WORDS) -> None:
        self.words = frozenset(word.lower() for word in words)
        self.common = CommonPasswordValidator().passwords

    def core_word(self, password: str) -> str:
        return password.strip(_DECORATION).lower()

    def validate(self, password: str, user: Any = None) -> None:
        word = self.core_word(password)
        if word in self.words:
            raise ValidationError(
                "This password is the registry's name, or that with digits or symbols added "
                f"(\u201c{word}\u201d), which is among the first things anyone would guess.",
                code="password_registry_word",
            )
        # An undecorated common password is CommonPasswordValidator's to refuse.
        if word in self.common and word != password.lower().strip():
            raise ValidationError(
                "This password is a common password with digits or symbols added "
                f"(\u201c{word}\u201d), which is among the first things anyone would guess.",
                code="password_common_word",
            )

    def get_help_text(self) -> str:
        return (
            "Your password can't be a common word or the registry's name with digits or "
            "symbols added."
        )
