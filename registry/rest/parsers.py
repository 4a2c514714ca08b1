"""Reading JSON that nobody can trust: bounded, and refused by where it goes wrong.

Python's json accepts what the registry cannot keep and fails on what it cannot read: nesting
100,000 deep raises RecursionError (a 500), a lone surrogate such as "\\ud800" decodes to a
string that PostgreSQL and UTF-8 refuse, "\\u0000" to a NUL, and NaN or Infinity to numbers
that JSON has not got. `load_json` refuses each of these with the place it was found
(`data → neuro_other_findings`), before anything is written. The REST API reads every body with
it (`BoundedJSONParser`, DRF's default parser), and the REDCap import reads its `data` with it.

Limits (docs/api.md): nesting at most MAX_JSON_DEPTH levels, any one string (value or key) at
most MAX_JSON_STRING characters, and the whole body at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes
(a 413). The form engine sets the tighter limits of each kind of answer.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import IO, Any, Final

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.parsers import JSONParser

MAX_JSON_DEPTH: Final = 32
"""Arrays and objects inside one another; a request of the registry needs four or five."""

MAX_JSON_STRING: Final = 100_000
"""Characters of any one string; the form engine's limits per answer are tighter."""

_SURROGATE = re.compile("[\ud800-\udfff]")
# Spellings in the text that may decode to a lone surrogate or a NUL: when none is there (the
# usual case), the strings need no look.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:[dD][89a-fA-F]|0000)")


_TOO_DEEP: Final = (
    f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep (arrays or "
    "objects inside one another); send the value as text or flatten it."
)


class JsonRefused(ValueError):
    """JSON that is not read: `path` is where (keys and list positions), `message` why."""

    def __init__(self, message: str, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def where(self) -> str:
        return " → ".join(str(step) for step in self.path)


def shown(text: str, limit: int = 60) -> str:
    """A key or value fit to be put in an error: short, and without what cannot be encoded."""
    cut = text if len(text) <= limit else text[:limit] + "…"
    return cut.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\0")


MAX_JSON_DIGITS: Final = 100
"""Digits of a whole number (a 64-bit integer has 19)."""


class _Unreadable:
    """A number that is not kept (NaN, Infinity, too many digits), left in place for the walk
    to refuse: it knows where the number is."""

    def __init__(self, text: str) -> None:
        self.text = text


def _whole_number(text: str) -> int | _Unreadable:
    return int(text) if len(text) <= MAX_JSON_DIGITS else _Unreadable(text)


def load_json(text: str) -> Any:
    """The value of `text`, or JsonRefused saying what is wrong and where."""
    try:
        value = json.loads(text, parse_constant=_Unreadable, parse_int=_whole_number)
    except RecursionError:
        raise JsonRefused(_TOO_DEEP, _near(_deep_path(text))) from None
    except ValueError as error:
        raise JsonRefused(f"The body is not valid JSON ({error}).") from None
    # The walk that names the place costs several times the parsing: a quicker one without
    # paths looks first, and the surrogate and NUL look runs only if the text has an escape.
    strings = _SUSPECT_ESCAPE.search(text) is not None
    if _has_problem(value, strings):
        check_json(value, strings=strings)
    return value


def _has_problem(value: Any, strings: bool) -> bool:
    stack = [(value, 0)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict):
            items: Any = current.values()
            if strings and any(_bad_string(key) for key in current):
                return True
            if any(len(key) > MAX_JSON_STRING for key in current):
                return True
        elif isinstance(current, list):
            items = current
        else:
            continue
        if depth >= MAX_JSON_DEPTH:
            return True
        for item in items:
            if isinstance(item, str):
                if len(item) > MAX_JSON_STRING or (strings and _bad_string(item)):
                    return True
            elif isinstance(item, dict | list):
                stack.append((item, depth + 1))
            elif isinstance(item, _Unreadable) or (
                isinstance(item, float) and not math.isfinite(item)
            ):
                return True
    return not isinstance(value, dict | list) and _has_problem([value], strings)


def _bad_string(text: str) -> bool:
    return "\x00" in text or _SURROGATE.search(text) is not None


def check_json(value: Any, *, strings: bool = True) -> None:
    """Refuse nesting, long strings, lone surrogates and NULs anywhere in a decoded value.

    `strings=False` leaves out the look for surrogates and NULs, for text known to hold none.
    A walk with a list for a stack: nesting this deep cannot make it recurse.
    """
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        current, path = stack.pop()
        if isinstance(current, str):
            _check_string(current, path, strings)
        elif isinstance(current, _Unreadable) or (
            isinstance(current, float) and not math.isfinite(current)
        ):
            # NaN and Infinity are not JSON; 1e400 is, and reads as an infinity.
            raise JsonRefused(
                "The number is not one JSON or the registry can hold (NaN, "
                f"Infinity, or more than {MAX_JSON_DIGITS} digits); send a finite "
                "number or null.",
                path,
            )
        elif isinstance(current, Mapping | list):
            if len(path) >= MAX_JSON_DEPTH:
                raise JsonRefused(_TOO_DEEP, _near(path))
            if isinstance(current, list):
                stack.extend((item, (*path, index)) for index, item in enumerate(current))
                continue
            for key, item in current.items():
                _check_string(key, (*path, shown(key)), strings)
                stack.append((item, (*path, shown(key))))


def _near(path: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """The first steps of a deep path, down to the field they name (`data → notes`)."""
    near = path[:3]
    while near and isinstance(near[-1], int):
        near = near[:-1]
    return near


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"\s*:?|[\[\]{},]')


def _deep_path(text: str) -> tuple[str | int, ...]:
    """Where in `text` the nesting goes deeper than allowed: keys and list positions.

    Read again, token by token, only for JSON that was too deep to parse; the strings are
    skipped whole, so brackets inside them do not count.
    """
    path: list[str | int] = []
    opened: list[str] = []
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token[0] == '"':
            if token[-1] == ":" and opened and opened[-1] == "{":
                path[-1] = shown(token[1:].rstrip(": \t\r\n")[:-1])
        elif token in "[{":
            if len(opened) >= MAX_JSON_DEPTH:
                return tuple(path)
            opened.append(token)
            path.append(0 if token == "[" else "")
        elif token in "]}":
            if opened:
                opened.pop()
                path.pop()
        elif opened and opened[-1] == "[":
            step = path[-1]
            path[-1] = step + 1 if isinstance(step, int) else step
    return ()


def _check_string(text: str, path: tuple[str | int, ...], strings: bool) -> None:
    if len(text) > MAX_JSON_STRING:
        raise JsonRefused(
            f"The value has {len(text):,} characters; no value of the registry "
            f"has more than {MAX_JSON_STRING:,}.",
            path,
        )
    if not strings:
        return
    if _SURROGATE.search(text):
        raise JsonRefused(
            "The value holds a lone surrogate (an escape such as \\ud800 that is "
            "not half of a pair), which is not text; send the character itself "
            "or its UTF-16 pair.",
            path,
        )
    if "\x00" in text:
        raise JsonRefused(
            "The value contains a NUL character (\\0), which no field of the "
            "registry accepts; remove it.",
            path,
        )


def error_body(refused: JsonRefused) -> Any:
    """The error as DRF's field errors: `{"data": {"notes": ["..."]}}`, or a detail."""
    body: Any = [refused.message]
    for step in reversed(refused.path):
        body = {shown(str(step)): body}
    return body if refused.path else {"detail": refused.message}


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with the limits above: a 400 naming the field, never a 500."""

    def parse(
        self,
        stream: IO[bytes] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        if stream is None:
            return None
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise RequestTooLarge(
                f"The request is larger than {limit // (1024 * 1024)} MB; "
                "send less at a time (bulk: fewer submissions per request)."
            )
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise ParseError("The body is not valid UTF-8 text.") from None
        try:
            return load_json(text)
        except JsonRefused as refused:
            if refused.path:
                raise ValidationError(error_body(refused)) from None
            raise ParseError(refused.message) from None
