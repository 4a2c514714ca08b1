"""A schema as canonical plain data, and the hash that names its meaning.

A published version is stored as ``schema_to_dict`` of its schema, and ``content_hash`` says
whether two documents mean the same thing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final

from .model import Annotation, Choice, Field, FormSchema, Limits, Slider

__all__ = ["content_hash", "field_to_dict", "schema_to_dict"]


def schema_to_dict(schema: FormSchema) -> dict[str, Any]:
    """The schema as canonical plain data: fixed key order, defaults left out.

    ``load_schema(schema_to_dict(s)) == s`` for every schema, and two files that say the same
    thing in different words (key order, explicit defaults, ``0.0`` for ``0``) give equal data.
    """
    out: dict[str, Any] = {
        "form": schema.form,
        "version": schema.version,
        "title": schema.title,
        "repeatable": schema.repeatable,
    }
    if schema.description:
        out["description"] = schema.description
    if schema.retired:
        out["retired"] = list(schema.retired)
    if schema.missing_codes:
        out["missing_codes"] = [{"code": m.code, "label": m.label} for m in schema.missing_codes]
    if schema.checks:
        out["checks"] = [
            {"field": c.field, "rule": c.rule, "message": c.message} for c in schema.checks
        ]
    if schema.record_id is not None:
        record: dict[str, str] = {"name": schema.record_id.name, "label": schema.record_id.label}
        if schema.record_id.form:
            record["form"] = schema.record_id.form
        out["record_id"] = record
    out["fields"] = [field_to_dict(f) for f in schema.fields]
    return out


_BOUNDS: Final = frozenset({"min", "max"})


def field_to_dict(f: Field) -> dict[str, Any]:
    out: dict[str, Any] = {"name": f.name, "type": f.type, "label": f.label}
    _put_set(out, f, ("section", "note", "validation", "min", "max", "pattern", "pattern_message"))
    if f.required:
        out["required"] = True
    if f.identifier:
        out["identifier"] = True
    _put_set(out, f, ("show_if", "calc"))
    if f.choices:
        out["choices"] = [_choice_to_dict(choice) for choice in f.choices]
    if f.slider is not None and f.slider != Slider():
        out["slider"] = _slider_to_dict(f.slider)
    _put_set(out, f, ("matrix_group", "alignment"))
    if f.annotations:
        out["annotations"] = [_annotation_to_dict(a) for a in f.annotations]
    _put_set(out, f, ("renamed_from",))
    if f.limits is not None:
        out["limits"] = _limits_to_dict(f.limits)
    if f.is_free_text and not f.phi_screen:
        out["phi_screen"] = False
    _put_set(out, f, ("annotation", "ontology"))
    return out


def _put_set(out: dict[str, Any], f: Field, keys: tuple[str, ...]) -> None:
    """Each of ``keys`` that ``f`` sets: a bound when it is given (0 is one), the rest when
    they are not blank or false."""
    for key in keys:
        value = getattr(f, key)
        given = value is not None if key in _BOUNDS else bool(value)
        if given:
            out[key] = value


def _slider_to_dict(slider: Slider) -> dict[str, Any]:
    out: dict[str, Any] = {
        key: getattr(slider, key) for key in ("left", "middle", "right") if getattr(slider, key)
    }
    if slider.show_number:
        out["show_number"] = True
    return out


def _limits_to_dict(limits: Limits) -> dict[str, Any]:
    return {key: getattr(limits, key) for key in ("min", "max") if getattr(limits, key) is not None}


def _choice_to_dict(choice: Choice) -> dict[str, Any]:
    out: dict[str, Any] = {"code": choice.code, "label": choice.label}
    if choice.annotations:
        out["annotations"] = [_annotation_to_dict(a) for a in choice.annotations]
    return out


def _annotation_to_dict(annotation: Annotation) -> dict[str, str]:
    out = {"system": annotation.system, "code": annotation.code}
    if annotation.label:
        out["label"] = annotation.label
    return out


def content_hash(data: Mapping[str, Any] | FormSchema) -> str:
    """SHA-256 (hex) of the canonical JSON of a schema document or a loaded schema.

    Pass the ``FormSchema`` (or ``schema_to_dict`` of it) to get a hash that changes only when
    the meaning changes; a raw mapping hashes its own content, key order aside.
    """
    plain = schema_to_dict(data) if isinstance(data, FormSchema) else data
    text = json.dumps(
        plain, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_json_default
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _json_default(value: object) -> str:
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be part of a schema")
