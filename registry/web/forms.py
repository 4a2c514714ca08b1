"""The small fixed forms of the coordinator pages (the CRFs are built in data_entry.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from registry.patients.models import Sex


class NeverEchoedInput(forms.TextInput):
    """A text box that never writes its value back into the page.

    The local hospital ID is a direct identifier: it is hashed and forgotten, so a page
    redisplayed after an error asks for it again rather than repeating it.
    """

    def format_value(self, value: Any) -> None:
        return None


class EnrolForm(forms.Form):
    local_id = forms.CharField(
        label="Local hospital ID",
        max_length=100,
        help_text="Typed here, turned into the patient's registry code, and then forgotten: "
        "it is never stored and never shown again.",
        widget=NeverEchoedInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "off",
                "spellcheck": "false",
            }
        ),
        error_messages={"required": "Type the patient's local hospital ID."},
    )
    sex = forms.ChoiceField(
        label="Sex",
        choices=Sex.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the patient's sex (Unknown if it is not known)."},
    )
    year_of_birth = forms.IntegerField(
        label="Year of birth",
        help_text="Four digits, for example 2016.",
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "off",
                "maxlength": 4,
                "class": "year-input",
            }
        ),
        error_messages={
            "required": "Type the year of birth (four digits, for example 2016).",
            "invalid": "Year of birth must be four digits, for example 2016.",
        },
    )

    def attach_errors(self, error: ValidationError) -> None:
        for name, messages in error.message_dict.items():
            self.add_error(name if name in self.fields else None, messages)


def _refuse_undecodable(value: str) -> None:
    # Bytes that were not UTF-8 (a lone surrogate among them) arrive as U+FFFD: no hospital
    # number holds one, and hashing it would only find nothing.
    if "\ufffd" in value or any("\ud800" <= char <= "\udfff" for char in value):
        raise ValidationError(
            "The local hospital ID holds a character that is not text; type it again by hand."
        )


class FindPatientForm(forms.Form):
    """The dashboard's look-up by hospital number: hashed at each of one's sites, never kept."""

    local_id = forms.CharField(
        label="Local hospital ID",
        max_length=100,
        validators=[_refuse_undecodable],
        help_text="Looked up at all your sites, then forgotten: never stored or shown again.",
        widget=NeverEchoedInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "off",
                "spellcheck": "false",
                "maxlength": 100,
            }
        ),
        error_messages={
            "required": "Type the patient's local hospital ID.",
            "max_length": "A local hospital ID has at most 100 characters.",
        },
    )


class SiteChoiceForm(forms.Form):
    site = forms.CharField()


class AnswerForm(forms.Form):
    text = forms.CharField(
        label="Your answer",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Explain the value, or say that you corrected it on the form. No names, dates "
        "or hospital numbers.",
        error_messages={"required": "Write your answer; it cannot be empty."},
    )

    def attach_errors(self, error: ValidationError) -> None:
        for name, messages in error.message_dict.items():
            self.add_error("text" if name == "text" else None, messages)
