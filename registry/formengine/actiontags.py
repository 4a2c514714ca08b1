"""REDCap action tags in a field's annotation: read once, honoured by validation and the form.

A REDCap Field Annotation holds action tags (``@HIDDEN``, ``@CHARLIMIT=200``,
``@CALCTEXT(...)``) and free text (URLs, notes to the team, ontology codes). The registry keeps
the whole annotation as written (``Field.annotation``) so that it travels back to REDCap
unchanged, and acts on the tags that change data entry or validation:

| tag | effect |
| --- | --- |
| ``@HIDDEN``, ``@HIDDEN-FORM`` | not shown on the registry's data-entry page (its value is kept) |
| ``@READONLY``, ``@READONLY-FORM`` | shown, not editable on the page; a posted value is ignored |
| ``@CALCTEXT(logic)`` | a text field computed on the server like a calc, stored as text |
| ``@CHARLIMIT=n``, ``@WORDLIMIT=n`` | at most n characters / words (text and notes) |
| ``@DEFAULT="v"`` | the value a new form starts with (ignored when it pipes ``[...]``) |
| ``@PLACEHOLDER="t"`` | the hint shown in an empty input |
| ``@NONEOFTHEABOVE=code`` | a checkbox option that cannot be ticked with another |
| ``@MAXCHECKED=n`` | at most n options of a checkbox |

Every other tag (``@HIDDEN-SURVEY``, ``@NOW``, ``@RANDOMORDER``, ``@IF``, ``@MAXCHOICE`` ...)
and all free text is kept and exported, and has no effect here (``KEPT_ONLY`` says why).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

__all__ = [
    "KEPT_ONLY",
    "REGISTRY_TAGS",
    "ActionTags",
    "Token",
    "parse_action_tags",
    "tokens",
]

_TAG_NAME: Final = re.compile(r"@([A-Za-z][A-Za-z0-9_-]*)")

REGISTRY_TAGS: Final[frozenset[str]] = frozenset({
    "HPO", "ORPHA", "SNOMED", "LOINC", "CHOICE-HPO", "CHOICE-ORPHA", "CHOICE-SNOMED",
    "CHOICE-LOINC", "PATTERN", "PATTERN-MESSAGE", "RENAMED-FROM", "LIMIT-MIN", "LIMIT-MAX",
    "NO-PHI-SCREEN", "CHECK", "CHECK-MESSAGE", "FORM-DESCRIPTION", "MISSING-CODES", "RETIRED",
})
"""The registry's own tags: what its schema says and REDCap has no column for."""

KEPT_ONLY: Final[dict[str, str]] = {
    "IF": "its condition is evaluated by REDCap when a page opens; the registry keeps it as "
          "written and applies neither branch",
    "MAXCHOICE": "it limits choices across all records, which one form cannot know",
    "SETVALUE": "the registry does not overwrite saved values",
    "NOW": "the registry stores no calendar dates or times of the patient",
    "TODAY": "the registry stores no calendar dates of the patient",
    "NOW-SERVER": "the registry stores no calendar dates or times of the patient",
    "TODAY-SERVER": "the registry stores no calendar dates of the patient",
    "NOW-UTC": "the registry stores no calendar dates or times of the patient",
    "TODAY-UTC": "the registry stores no calendar dates of the patient",
}
"""Tags that change data entry in REDCap but are kept without effect here, with the reason."""

_HIDDEN: Final = frozenset({"HIDDEN", "HIDDEN-FORM"})
_READONLY: Final = frozenset({"READONLY", "READONLY-FORM"})


@dataclass(frozen=True, slots=True)
class Token:
    """One piece of an annotation: a tag (``name`` upper-case, ``value`` or None) or free text
    (``name`` ""). ``start``/``end`` locate it; ``problem`` is set for a tag that cannot be read."""

    name: str
    value: str | None
    start: int
    end: int
    problem: str = ""


@dataclass(frozen=True, slots=True)
class ActionTags:
    """The action tags of one annotation that the registry acts on."""

    hidden: bool = False
    readonly: bool = False
    calctext: str = ""
    charlimit: int | None = None
    wordlimit: int | None = None
    default: str | None = None
    placeholder: str | None = None
    none_of_the_above: tuple[str, ...] = ()
    maxchecked: int | None = None

    @property
    def any(self) -> bool:
        return self != _NONE


_NONE: Final = ActionTags()


def tokens(text: str) -> Iterator[Token]:
    """The tags and the free text of an annotation, in order."""
    position = 0
    length = len(text)
    while position < length:
        if text[position].isspace():
            position += 1
            continue
        match = _TAG_NAME.match(text, position)
        if match is None:
            # Free text runs to the next tag-looking '@' that follows a space (an e-mail
            # address or "see @ the clinic" stays one piece of text).
            end = position
            while True:
                end = text.find("@", end + 1)
                if end == -1 or (text[end - 1].isspace() and _TAG_NAME.match(text, end)):
                    break
            end = length if end == -1 else end
            yield Token("", None, position, end)
            position = end
            continue
        start = position
        name = match[1].upper()
        position = match.end()
        value: str | None = None
        problem = ""
        if position < length and text[position] == "=":
            value, position, problem = _tag_value(text, position + 1)
        elif position < length and text[position] == "(":
            value, position, problem = _parenthesised(text, position)
        yield Token(name, value, start, position, f"@{name}: {problem}" if problem else "")


def _tag_value(text: str, position: int) -> tuple[str, int, str]:
    if position >= len(text) or text[position].isspace():
        return "", position, "has '=' but no value"
    quote = text[position]
    if quote not in "\"'":
        end = position
        while end < len(text) and not text[end].isspace():
            end += 1
        return text[position:end], end, ""
    pieces = []
    position += 1
    while position < len(text):
        char = text[position]
        if char == quote:
            if text.startswith(quote * 2, position):
                pieces.append(quote)
                position += 2
                continue
            return "".join(pieces), position + 1, ""
        pieces.append(char)
        position += 1
    return "", position, f"the value's closing {quote} is missing"


def _parenthesised(text: str, position: int) -> tuple[str, int, str]:
    """The text inside balanced parentheses; quoted strings may hold parentheses."""
    depth = 0
    start = position
    quote = ""
    while position < len(text):
        char = text[position]
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return text[start + 1:position], position + 1, ""
        position += 1
    return text[start + 1:], position, "the closing ')' is missing"


def _count(name: str, value: str | None, problems: list[str]) -> int | None:
    text = (value or "").strip()
    if not re.fullmatch(r"\d{1,9}", text) or int(text) < 1:
        problems.append(f"@{name} needs a whole number of 1 or more, for example @{name}=200; "
                        f"found {value!r}")
        return None
    return int(text)


def parse_action_tags(text: str) -> tuple[ActionTags, list[str]]:
    """The tags of ``text`` the registry acts on, and what is wrong with them."""
    if "@" not in text:
        return _NONE, []
    problems: list[str] = []
    found: dict[str, object] = {}
    for token in tokens(text):
        if not token.name:
            continue
        if token.problem:
            problems.append(token.problem)
            continue
        name, value = token.name, token.value
        if name in _HIDDEN:
            found["hidden"] = True
        elif name in _READONLY:
            found["readonly"] = True
        elif name == "CALCTEXT":
            if not (value or "").strip():
                problems.append("@CALCTEXT needs its logic in parentheses, for example "
                                "@CALCTEXT(if([a] > 1, 'high', 'low'))")
            else:
                found["calctext"] = value.strip()  # type: ignore[union-attr]
        elif name in {"CHARLIMIT", "WORDLIMIT"}:
            count = _count(name, value, problems)
            if count is not None:
                found[name.lower()] = count
        elif name == "MAXCHECKED":
            count = _count(name, value, problems)
            if count is not None:
                found["maxchecked"] = count
        elif name in {"DEFAULT", "PLACEHOLDER"}:
            if value is None:
                problems.append(f"@{name} needs a value, for example @{name}=\"...\"")
            else:
                found[name.lower()] = value
        elif name == "NONEOFTHEABOVE":
            codes = tuple(code.strip() for code in (value or "").split(",") if code.strip())
            if not codes:
                problems.append("@NONEOFTHEABOVE needs the option's code, for example "
                                "@NONEOFTHEABOVE=99")
            else:
                found["none_of_the_above"] = codes
    return ActionTags(**found), problems  # type: ignore[arg-type]
