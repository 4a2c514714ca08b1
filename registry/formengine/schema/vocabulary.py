"""What a schema document may say: field types, keys, ontologies, and the shape of names.

These are the words of docs/form-schema.md as data, shared by the loader, the REDCap data
dictionary reader and writer, and the exports (a checkbox option's column).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = [
    "ALIGNMENTS",
    "ANNOTATION_SYSTEMS",
    "CHOICE_TYPES",
    "FIELD_KEYS",
    "FIELD_TYPES",
    "FORM_KEYS",
    "IMPLICIT_CHOICES",
    "LEGACY_TYPE_ALIASES",
    "MAX_NAME_LENGTH",
    "NAME_RULE",
    "ONTOLOGY_NAME",
    "ONTOLOGY_TERM",
    "PIPED_BOUND",
    "REDCAP_RESERVED_NAMES",
    "checkbox_column",
    "code_is_valid",
    "name_problem",
    "split_reference",
]

FIELD_TYPES: Final[tuple[str, ...]] = (
    "text",
    "notes",
    "dropdown",
    "radio",
    "checkbox",
    "yesno",
    "truefalse",
    "calc",
    "slider",
    "descriptive",
    "file",
)
LEGACY_TYPE_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {"textarea": "notes", "select": "dropdown"}
)
CHOICE_TYPES: Final[frozenset[str]] = frozenset({"dropdown", "radio", "checkbox"})
IMPLICIT_CHOICES: Final[Mapping[str, tuple[tuple[str, str], ...]]] = MappingProxyType(
    {"yesno": (("1", "Yes"), ("0", "No")), "truefalse": (("1", "True"), ("0", "False"))}
)
ANNOTATION_SYSTEMS: Final[Mapping[str, tuple[re.Pattern[str], str]]] = MappingProxyType(
    {
        "HPO": (re.compile(r"HP:\d{7}"), "HP: and seven digits, for example HP:0001335"),
        "ORPHA": (re.compile(r"ORPHA:\d+"), "ORPHA: and digits, for example ORPHA:238722"),
        "SNOMED": (re.compile(r"\d{6,18}"), "a SNOMED CT concept id of 6 to 18 digits"),
        "LOINC": (re.compile(r"\d{1,7}-\d"), "a LOINC code such as 8302-2"),
    }
)
ALIGNMENTS: Final[tuple[str, ...]] = ("LV", "LH", "RV", "RH")
ONTOLOGY_NAME: Final = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}")
ONTOLOGY_TERM: Final = re.compile(r"[A-Za-z][A-Za-z0-9.]{0,39}[:_][A-Za-z0-9][A-Za-z0-9._-]{0,99}")
"""A term's code as a CURIE (``HP:0001250``, ``MONDO_0007739``, ``Orphanet:238722``)."""
REDCAP_RESERVED_NAMES: Final[frozenset[str]] = frozenset(
    {
        "redcap_event_name",
        "redcap_data_access_group",
        "redcap_repeat_instance",
        "redcap_repeat_instrument",
        "redcap_survey_identifier",
    }
)
MAX_NAME_LENGTH: Final = 100
NAME_RULE: Final = (
    "lower-case letters, digits and underscores, starting with a letter, not ending with an "
    "underscore, without '___', at most 100 characters"
)


_NAME = re.compile(r"[a-z][a-z0-9_]*")
_CODE = re.compile(r"[A-Za-z0-9._-]+")
_CHECKBOX_REF = re.compile(r"([^()]+)\((.*)\)")
PIPED_BOUND: Final = re.compile(r"\[([a-z][a-z0-9_]*)\]")
"""A limit taken from another field of the form (REDCap's piped min/max): ``[onset_age]``."""

FORM_KEYS: Final = (
    "form",
    "version",
    "title",
    "repeatable",
    "description",
    "retired",
    "missing_codes",
    "checks",
    "record_id",
    "fields",
)
FIELD_KEYS: Final = (
    "name",
    "type",
    "label",
    "section",
    "note",
    "validation",
    "min",
    "max",
    "pattern",
    "pattern_message",
    "required",
    "identifier",
    "show_if",
    "calc",
    "choices",
    "slider",
    "matrix_group",
    "alignment",
    "annotations",
    "renamed_from",
    "limits",
    "phi_screen",
    "annotation",
    "ontology",
)


def name_problem(name: str) -> str:
    """What is wrong with a REDCap field or form name, or '' when it is fine."""
    if len(name) > MAX_NAME_LENGTH:
        return f"is longer than {MAX_NAME_LENGTH} characters"
    if not _NAME.fullmatch(name):
        suggestion = re.sub(r"[^a-z0-9_]+", "_", name.strip().lower()).strip("_")
        fits = bool(suggestion) and _NAME.fullmatch(suggestion) is not None
        hint = f" (for example '{suggestion}')" if fits else ""
        return f"must be {NAME_RULE}{hint}"
    if name.endswith("_"):
        return "must not end with an underscore"
    if "___" in name:
        return "must not contain '___' (REDCap uses it for checkbox columns)"
    return ""


def code_is_valid(code: str) -> bool:
    """Whether ``code`` is a choice or missing code: letters, digits, '.', '_' and '-'."""
    return _CODE.fullmatch(code) is not None


def checkbox_column(field_name: str, code: str) -> str:
    """The flat-export column of one checkbox option, as REDCap names it."""
    cleaned = re.sub(r"[^a-z0-9_]", "", code.lower().replace("-", "_").replace(".", "_"))
    return f"{field_name}___{cleaned}"


def split_reference(reference: str) -> tuple[str, str | None]:
    """``"f(code)"`` -> ``("f", "code")``; ``"f"`` -> ``("f", None)``."""
    match = _CHECKBOX_REF.fullmatch(reference)
    if match is None:
        return reference, None
    return match[1], match[2]
