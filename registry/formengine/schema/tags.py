"""A field's annotation: REDCap's action tags as a schema may use them.

The annotation is kept as written; here it is checked: the tags the schema has keys of its own
for are refused, ``@CALCTEXT`` must compile, and each tag must suit the field's type (inside
``@IF`` branches too). ``registry.formengine.actiontags`` reads the tags themselves.
"""

from __future__ import annotations

from collections.abc import Iterator

from registry.formengine import logic
from registry.formengine.actiontags import REGISTRY_TAGS, ActionTags, parse_action_tags, tokens

from .model import Choice
from .reader import SchemaReader

__all__ = ["read_annotation"]


def read_annotation(
    reader: SchemaReader,
    raw: object,
    path: str,
    kind: str,
    validation: str,
    choices: tuple[Choice, ...],
    field: str | None,
) -> str:
    text = reader.text(raw, path, field=field)
    if not text:
        return ""
    own = sorted({t.name for t in tokens(text) if t.name in REGISTRY_TAGS})
    if own:
        reader.problem(
            path,
            f"@{', @'.join(own)} belong{'s' if len(own) == 1 else ''} in the "
            "schema's own keys (annotations, pattern, renamed_from, limits, "
            "phi_screen, checks), not in the annotation text",
            field,
        )
    tags, problems = parse_action_tags(text)
    for message in problems:
        reader.problem(path, message, field)
    if tags.calctext:
        if kind != "text" or validation:
            reader.problem(
                path, "@CALCTEXT computes the value of a text field without a validation", field
            )
        else:
            try:
                logic.compile_logic(tags.calctext)
            except logic.LogicSyntaxError as error:
                reader.problem(
                    path,
                    f"@CALCTEXT: {error.message} (at character "
                    f"{error.position + 1} of {tags.calctext!r})",
                    field,
                )
    seen: set[str] = set()
    # The tags inside @IF branches obey the same rules as those written outside.
    for part in tags.every():
        for message in _tag_kinds(part, kind, choices):
            if message not in seen:
                seen.add(message)
                reader.problem(path, message, field)
    return text


def _tag_kinds(tags: ActionTags, kind: str, choices: tuple[Choice, ...]) -> Iterator[str]:
    for name, value in (("CHARLIMIT", tags.charlimit), ("WORDLIMIT", tags.wordlimit)):
        if value is not None and kind not in {"text", "notes"}:
            yield f"@{name} applies to text and notes fields, not {kind}"
    if (tags.none_of_the_above or tags.maxchecked is not None) and kind != "checkbox":
        yield f"@NONEOFTHEABOVE and @MAXCHECKED apply to checkbox fields, not {kind}"
    elif tags.none_of_the_above:
        codes = {choice.code for choice in choices}
        unknown = [code for code in tags.none_of_the_above if code not in codes]
        if unknown:
            yield (
                f"@NONEOFTHEABOVE names {', '.join(unknown)}, which "
                f"{'is not a code' if len(unknown) == 1 else 'are not codes'} "
                f"of this checkbox; its codes are {', '.join(c.code for c in choices)}"
            )
    if tags.maxchoice:
        codes = {choice.code for choice in choices} or (
            {"1", "0"} if kind in {"yesno", "truefalse"} else set()
        )
        if not codes or kind in {"calc", "slider"}:
            yield f"@MAXCHOICE applies to fields with choices, not {kind}"
        else:
            unknown = [code for code, _ in tags.maxchoice if code not in codes]
            if unknown:
                yield (
                    f"@MAXCHOICE names {', '.join(unknown)}, which "
                    f"{'is not a code' if len(unknown) == 1 else 'are not codes'} of "
                    f"this field; its codes are {', '.join(sorted(codes))}"
                )
