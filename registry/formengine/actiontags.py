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
| ``@IF(logic, tags, tags)`` | the first tags when the logic is true, else the second |
| ``@MAXCHOICE=code(n),...`` | a choice no longer offered once n records have saved it |

``@IF`` may hold any of the tags above but ``@CALCTEXT`` (a computed value does not come and
go) and ``@MAXCHOICE`` (a count over all records is not one record's to change), and
further ``@IF``s up to ``MAX_IF_DEPTH`` deep. Its condition is read with the record's
answers: on the page, when it opens (as REDCap does); in validation, with the answers being
saved (``ActionTags.resolve``).

``@MAXCHOICE`` needs a count across records, which one submission cannot know: the engine reads
it (``ActionTags.maxchoice``) and the submissions service enforces it.

Every other tag (``@HIDDEN-SURVEY``, ``@NOW``, ``@RANDOMORDER`` ...) and all free text is kept
and exported, and has no effect here (``KEPT_ONLY`` says why).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, replace
from typing import Final

from registry.formengine import logic

__all__ = [
    "KEPT_ONLY",
    "MAX_IF_DEPTH",
    "REGISTRY_TAGS",
    "ActionTags",
    "Conditional",
    "Token",
    "parse_action_tags",
    "tokens",
]

_TAG_NAME: Final = re.compile(r"@([A-Za-z][A-Za-z0-9_-]*)")

REGISTRY_TAGS: Final[frozenset[str]] = frozenset(
    {
        "HPO",
        "ORPHA",
        "SNOMED",
        "LOINC",
        "CHOICE-HPO",
        "CHOICE-ORPHA",
        "CHOICE-SNOMED",
        "CHOICE-LOINC",
        "PATTERN",
        "PATTERN-MESSAGE",
        "RENAMED-FROM",
        "LIMIT-MIN",
        "LIMIT-MAX",
        "NO-PHI-SCREEN",
        "CHECK",
        "CHECK-MESSAGE",
        "FORM-DESCRIPTION",
        "MISSING-CODES",
        "RETIRED",
    }
)
"""The registry's own tags: what its schema says and REDCap has no column for."""

KEPT_ONLY: Final[dict[str, str]] = {
    "SETVALUE": "the registry does not overwrite saved values",
    "NOW": "the registry stores no calendar dates or times of the patient",
    "TODAY": "the registry stores no calendar dates of the patient",
    "NOW-SERVER": "the registry stores no calendar dates or times of the patient",
    "TODAY-SERVER": "the registry stores no calendar dates of the patient",
    "NOW-UTC": "the registry stores no calendar dates or times of the patient",
    "TODAY-UTC": "the registry stores no calendar dates of the patient",
}
"""Tags that change data entry in REDCap but are kept without effect here, with the reason."""

MAX_IF_DEPTH: Final = 4
"""How deep @IF may nest: deeper than any real dictionary goes, and it keeps reading an
annotation linear in its length (each level is read once)."""

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
    maxchoice: tuple[tuple[str, int], ...] = ()
    """(choice code, records allowed) of @MAXCHOICE, in the order written."""
    conditionals: tuple[Conditional, ...] = ()
    """The @IFs, in order: each adds its chosen branch's tags to the ones above."""

    @property
    def any(self) -> bool:
        return self != _NONE

    def every(self) -> Iterator[ActionTags]:
        """These tags and those of every @IF branch, however deep (for checks of the schema)."""
        yield self
        for conditional in self.conditionals:
            yield from conditional.then.every()
            yield from conditional.otherwise.every()

    def resolve(self, decide: Callable[[Conditional], bool]) -> ActionTags:
        """The tags in effect when ``decide`` says which @IF conditions hold.

        A branch adds to what is already set: a flag once set stays set, a value in a branch
        replaces the one before it (REDCap applies the chosen tags as if written in place)."""
        if not self.conditionals:
            return self
        tags = replace(self, conditionals=())
        for conditional in self.conditionals:
            branch = conditional.then if decide(conditional) else conditional.otherwise
            tags = _merge(tags, branch.resolve(decide))
        return tags


@dataclass(frozen=True, slots=True)
class Conditional:
    """One ``@IF(condition, then, otherwise)``: ``logic`` is the parsed condition."""

    condition: str
    logic: logic.Node
    then: ActionTags
    otherwise: ActionTags


def _merge(base: ActionTags, branch: ActionTags) -> ActionTags:
    changes: dict[str, object] = {}
    for item in fields(ActionTags):
        value = getattr(branch, item.name)
        if item.name != "conditionals" and value != item.default:
            changes[item.name] = value
    return replace(base, **changes) if changes else base  # type: ignore[arg-type]


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


def _structure(text: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """Each character of ``text`` from ``start`` that is outside quoted strings, with the depth
    of parentheses once it is read: quoted strings may hold parentheses and commas."""
    depth = 0
    quote = ""
    for position in range(start, len(text)):
        char = text[position]
        if quote:
            if char == quote:
                quote = ""
            continue
        if char in "\"'":
            quote = char
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        yield position, char, depth


def _parenthesised(text: str, position: int) -> tuple[str, int, str]:
    """The text inside the balanced parentheses that open at ``position``."""
    for end, char, depth in _structure(text, position):
        if char == ")" and depth == 0:
            return text[position + 1 : end], end + 1, ""
    return text[position + 1 :], len(text), "the closing ')' is missing"


def _count(name: str, value: str | None, problems: list[str]) -> int | None:
    text = (value or "").strip()
    if not re.fullmatch(r"\d{1,9}", text) or int(text) < 1:
        problems.append(
            f"@{name} needs a whole number of 1 or more, for example @{name}=200; found {value!r}"
        )
        return None
    return int(text)


def parse_action_tags(text: str) -> tuple[ActionTags, list[str]]:
    """The tags of ``text`` the registry acts on, and what is wrong with them."""
    return _parse(text, 0)


def _parse(text: str, depth: int) -> tuple[ActionTags, list[str]]:
    if "@" not in text:
        return _NONE, []
    problems: list[str] = []
    found: dict[str, object] = {}
    conditionals: list[Conditional] = []
    for token in tokens(text):
        if not token.name:
            continue
        if token.problem:
            problems.append(token.problem)
            continue
        name, value = token.name, token.value
        if name == "IF":
            conditional = _conditional(value, depth, problems)
            if conditional is not None:
                conditionals.append(conditional)
        elif depth and name in {"CALCTEXT", "MAXCHOICE"}:
            problems.append(
                f"@{name} cannot be inside @IF: it holds for every record alike; "
                "write it outside the @IF"
            )
        else:
            _tag(name, value, found, problems)
    if conditionals:
        found["conditionals"] = tuple(conditionals)
    return ActionTags(**found), problems  # type: ignore[arg-type]


def _tag(name: str, value: str | None, found: dict[str, object], problems: list[str]) -> None:
    """Put what one tag (not @IF) says in ``found``, or what is wrong with it in ``problems``."""
    if name == "MAXCHOICE":
        limits = _maxchoice(value, problems)
        if limits:
            found["maxchoice"] = limits
    elif name in _HIDDEN:
        found["hidden"] = True
    elif name in _READONLY:
        found["readonly"] = True
    elif name == "CALCTEXT":
        if not (value or "").strip():
            problems.append(
                "@CALCTEXT needs its logic in parentheses, for example "
                "@CALCTEXT(if([a] > 1, 'high', 'low'))"
            )
        else:
            found["calctext"] = value.strip()  # type: ignore[union-attr]
    else:
        _valued_tag(name, value, found, problems)


def _valued_tag(
    name: str, value: str | None, found: dict[str, object], problems: list[str]
) -> None:
    if name in {"CHARLIMIT", "WORDLIMIT"}:
        count = _count(name, value, problems)
        if count is not None:
            found[name.lower()] = count
    elif name == "MAXCHECKED":
        count = _count(name, value, problems)
        if count is not None:
            found["maxchecked"] = count
    elif name in {"DEFAULT", "PLACEHOLDER"}:
        if value is None:
            problems.append(f'@{name} needs a value, for example @{name}="..."')
        else:
            found[name.lower()] = value
    elif name == "NONEOFTHEABOVE":
        codes = tuple(code.strip() for code in (value or "").split(",") if code.strip())
        if not codes:
            problems.append(
                "@NONEOFTHEABOVE needs the option's code, for example @NONEOFTHEABOVE=99"
            )
        else:
            found["none_of_the_above"] = codes


_MAXCHOICE_ITEM: Final = re.compile(r"\s*([A-Za-z0-9._-]{1,100})\s*\(\s*(\d{1,9})\s*\)\s*")


def _maxchoice(value: str | None, problems: list[str]) -> tuple[tuple[str, int], ...]:
    limits: list[tuple[str, int]] = []
    for item in (value or "").split(","):
        match = _MAXCHOICE_ITEM.fullmatch(item)
        if match is None:
            problems.append(
                "@MAXCHOICE needs choice codes each with its number of records, "
                f"for example @MAXCHOICE=1(20),2(10); found {value!r}"
            )
            return ()
        limits.append((match[1], int(match[2])))
    return tuple(limits)


_IF_SHAPE: Final = (
    "@IF needs a condition and two sets of tags, for example @IF([age] < 18, @HIDDEN, ''); "
)


def _conditional(value: str | None, depth: int, problems: list[str]) -> Conditional | None:
    if depth + 1 > MAX_IF_DEPTH:
        problems.append(
            f"@IF is nested more than {MAX_IF_DEPTH} deep; write the conditions "
            "side by side instead"
        )
        return None
    if value is None:
        problems.append(_IF_SHAPE + "found @IF without parentheses")
        return None
    parts = _arguments(value)
    if len(parts) != 3:
        problems.append(
            _IF_SHAPE + f"found {len(parts)} part{'s' if len(parts) != 1 else ''} "
            "separated by commas (put a tag value holding a comma in quotes)"
        )
        return None
    condition = parts[0].strip()
    try:
        node = logic.compile_logic(condition)
    except logic.LogicSyntaxError as error:
        problems.append(
            f"@IF: {error.message} (at character {error.position + 1} of {condition!r})"
        )
        return None
    branches = []
    for part in parts[1:]:
        branch = _unquoted(part.strip())
        tags, found = _parse(branch, depth + 1)
        problems.extend(found)
        branches.append(tags)
    return Conditional(condition, node, branches[0], branches[1])


def _arguments(text: str) -> list[str]:
    """``text`` split at the commas outside quotes and parentheses, in one pass."""
    parts: list[str] = []
    start = 0
    for position, char, depth in _structure(text):
        if char == "," and depth == 0:
            parts.append(text[start:position])
            start = position + 1
    parts.append(text[start:])
    return parts


def _unquoted(text: str) -> str:
    """A branch written in quotes (REDCap writes '' for "no tags") without them."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text
