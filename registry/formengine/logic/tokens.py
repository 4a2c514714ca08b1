"""Splitting logic source into tokens, with the offset of each for error messages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import LogicSyntaxError

__all__ = ["Token", "tokenize"]

_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Longest first, so that "<=" is not read as "<" then "=".
_OPERATORS = (
    "<>",
    "<=",
    ">=",
    "!=",
    "==",
    "&&",
    "||",
    "=",
    "<",
    ">",
    "+",
    "-",
    "*",
    "/",
    "^",
    "(",
    ")",
    ",",
)
_CANONICAL = {"!=": "<>", "==": "=", "&&": "and", "||": "or"}
_CURLY_QUOTES = "\u2018\u2019\u201c\u201d"
_MAX_NUMBER_LENGTH = 300


@dataclass(frozen=True, slots=True)
class Token:
    """One token. ``kind`` is number, string, ref, word, op or end.

    ``value`` is the number, the string's text, a tuple of ``(text, offset)`` for each bracket of
    a reference chain such as ``[event][field]``, the lower-cased word, or the canonical operator.
    """

    kind: str
    text: str
    position: int
    value: Any = None

    def describe(self) -> str:
        if self.kind == "end":
            return "end of expression"
        return f"'{self.text}'"


def tokenize(source: str) -> list[Token]:
    """The tokens of ``source``, ending with an ``end`` token; comment lines are dropped."""
    tokens: list[Token] = []
    pos = 0
    length = len(source)
    line_start = True
    while True:
        while pos < length and source[pos] in " \t\r\n\f\v":
            if source[pos] == "\n":
                line_start = True
            pos += 1
        if pos >= length:
            break
        char = source[pos]
        if line_start and (char == "#" or source.startswith("//", pos)):
            end = source.find("\n", pos)
            pos = length if end == -1 else end
            continue
        if char == "#" or source.startswith("//", pos):
            raise LogicSyntaxError(
                "A comment must be on its own line, starting with // or #", pos, source
            )
        line_start = False
        if char == "[":
            pos = _read_reference(source, pos, tokens)
        elif char in "'\"":
            end = source.find(char, pos + 1)
            if end == -1:
                raise LogicSyntaxError("Unterminated string", pos, source)
            tokens.append(Token("string", source[pos : end + 1], pos, source[pos + 1 : end]))
            pos = end + 1
        elif char.isascii() and (char.isdigit() or char == "."):
            match = _NUMBER.match(source, pos)
            if match is None:
                raise LogicSyntaxError("Unexpected '.'", pos, source)
            tokens.append(_number_token(source, match.group(), pos))
            pos = match.end()
        elif char.isascii() and (char.isalpha() or char == "_"):
            match = _WORD.match(source, pos)
            assert match is not None
            text = match.group()
            tokens.append(Token("word", text, pos, text.lower()))
            pos = match.end()
        else:
            for op in _OPERATORS:
                if source.startswith(op, pos):
                    tokens.append(Token("op", op, pos, _CANONICAL.get(op, op)))
                    pos += len(op)
                    break
            else:
                raise LogicSyntaxError(_unexpected_character(char), pos, source)
    tokens.append(Token("end", "", length))
    return tokens


def _read_reference(source: str, pos: int, tokens: list[Token]) -> int:
    """Read ``[a][b][c]`` (brackets written together) as one token."""
    start = pos
    parts: list[tuple[str, int]] = []
    while pos < len(source) and source[pos] == "[":
        end = pos + 1
        while end < len(source) and source[end] not in "[]\n":
            end += 1
        if end >= len(source) or source[end] != "]":
            raise LogicSyntaxError("Unclosed '['", pos, source)
        parts.append((source[pos + 1 : end], pos))
        pos = end + 1
    tokens.append(Token("ref", source[start:pos], start, tuple(parts)))
    return pos


def _number_token(source: str, text: str, pos: int) -> Token:
    if len(text) > _MAX_NUMBER_LENGTH:
        raise LogicSyntaxError("Number is too long", pos, source)
    if text.isdigit():
        return Token("number", text, pos, int(text))
    value = float(text)
    if value == float("inf"):
        raise LogicSyntaxError(f"Number {text} is too large", pos, source)
    return Token("number", text, pos, value)


def _unexpected_character(char: str) -> str:
    if char in _CURLY_QUOTES:
        return f"Unexpected '{char}': write quotes as straight ' or \""
    if char == "!":
        return "Unexpected '!': write 'not' for negation and '<>' for not equal"
    if char == "]":
        return "Unexpected ']' without a matching '['"
    return f"Unexpected character '{char}'"
