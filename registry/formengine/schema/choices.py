"""What a field offers to choose from: its choices, a slider's labels, and the ontology codes
(annotations) of a field or a choice."""

from __future__ import annotations

from collections.abc import Mapping

from .model import Annotation, Choice, Slider
from .reader import SchemaReader
from .vocabulary import ANNOTATION_SYSTEMS, CHOICE_TYPES, IMPLICIT_CHOICES, checkbox_column

__all__ = ["read_annotations", "read_choices", "read_slider"]


def read_choices(
    reader: SchemaReader, raw: object, path: str, kind: str, field: str | None
) -> tuple[Choice, ...]:
    if kind not in CHOICE_TYPES:
        if raw is not None:
            implicit = " (its choices 1 and 0 are implicit)" if kind in IMPLICIT_CHOICES else ""
            reader.problem(path, f"a {kind} field takes no choices{implicit}", field)
        return ()
    if not isinstance(raw, list) or not raw:
        reader.problem(
            path, f"a {kind} field needs a list of choices, each with code and label", field
        )
        return ()
    choices: list[Choice] = []
    seen: dict[str, int] = {}
    columns: dict[str, int] = {}
    for index, item in enumerate(raw):
        item_path = f"{path}[{index}]"
        if not isinstance(item, Mapping):
            reader.problem(item_path, "must be a mapping with code and label", field)
            continue
        reader.unknown_keys(item, ("code", "label", "annotations"), item_path, "a choice", field)
        code = reader.code(item.get("code"), f"{item_path}.code", field)
        label = reader.text(item.get("label"), f"{item_path}.label", required=True, field=field)
        if "|" in label or "\n" in label:
            reader.problem(
                f"{item_path}.label",
                "a choice label cannot contain '|' or a line "
                "break: a REDCap dictionary could not hold it; write '/' or 'or'",
                field,
            )
        if code in seen:
            reader.problem(
                f"{item_path}.code",
                f"code '{code}' is already used by choices[{seen[code]}]; codes must be unique",
                field,
            )
        seen.setdefault(code, index)
        if kind == "checkbox":
            column = checkbox_column("", code)
            if column in columns and seen[code] == index:
                reader.problem(
                    f"{item_path}.code",
                    f"code '{code}' and choices"
                    f"[{columns[column]}] export to the same column "
                    f"(field{column}); change one of them",
                    field,
                )
            columns.setdefault(column, index)
        annotations = read_annotations(
            reader, item.get("annotations"), f"{item_path}.annotations", field
        )
        choices.append(Choice(code, label, annotations))
    return tuple(choices)


def read_slider(
    reader: SchemaReader, raw: object, path: str, kind: str, field: str | None
) -> Slider | None:
    if raw is None:
        return Slider() if kind == "slider" else None
    if kind != "slider":
        reader.problem(path, "only slider fields take slider labels", field)
        return None
    if not isinstance(raw, Mapping):
        reader.problem(path, "must be a mapping with left, middle, right", field)
        return Slider()
    reader.unknown_keys(raw, ("left", "middle", "right", "show_number"), path, "a slider", field)
    labels = []
    for key in ("left", "middle", "right"):
        value = raw.get(key)
        labels.append(reader.text(value, f"{path}.{key}", field=field))
        if isinstance(value, str) and "|" in value:
            reader.problem(f"{path}.{key}", "a slider label cannot contain '|'", field)
    show = reader.flag(raw.get("show_number", False), f"{path}.show_number", field)
    return Slider(labels[0], labels[1], labels[2], show)


def read_annotations(
    reader: SchemaReader, raw: object, path: str, field: str | None
) -> tuple[Annotation, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        reader.problem(path, "must be a list of {system, code, label} entries", field)
        return ()
    result = []
    for index, item in enumerate(raw):
        item_path = f"{path}[{index}]"
        if not isinstance(item, Mapping):
            reader.problem(item_path, "must be a mapping with system, code and label", field)
            continue
        reader.unknown_keys(item, ("system", "code", "label"), item_path, "an annotation", field)
        system = str(item.get("system"))
        code = item.get("code")
        label = reader.text(item.get("label"), f"{item_path}.label", field=field)
        if system not in ANNOTATION_SYSTEMS:
            reader.problem(
                f"{item_path}.system",
                f"unknown system {system!r}; use one of {', '.join(ANNOTATION_SYSTEMS)}",
                field,
            )
            continue
        shape, shown = ANNOTATION_SYSTEMS[system]
        if not isinstance(code, str) or not shape.fullmatch(code):
            reader.problem(
                f"{item_path}.code", f"{code!r} is not a {system} code; write {shown}", field
            )
            continue
        result.append(Annotation(system, code, label))
    return tuple(result)
