"""Reading logic source into a tree (a Pratt parser over the tokens).

Precedence, loosest first: ``or``, ``and``, ``not``, comparisons (which do not chain), ``+ -``,
``* /``, unary minus, ``^`` (right-associative, so ``2^3^2`` is ``2^(3^2)`` and ``-2^2`` is
``-(2^2)``). REDCap asks for ``(x)^(y)``; the parentheses are accepted and not required.
"""

from __future__ import annotations

import functools
import re

from .errors import LogicSyntaxError
from .functions import DATEDIFF_FORMATS, DATEDIFF_UNITS, FUNCTIONS
from .nodes import (
    COMPARISON_OPERATORS,
    Binary,
    Boolean,
    Call,
    FieldRef,
    Logical,
    Node,
    Number,
    SmartVariable,
    String,
    Unary,
)
from .smart_variables import INSTANCE_VARIABLES, SMART_VARIABLES
from .tokens import Token, tokenize

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "compile_logic", "parse"]

# Binding powers; the printer uses the same numbers to decide on parentheses.
OR, AND, NOT, COMPARISON, ADDITIVE, MULTIPLICATIVE, NEGATION, POWER, ATOM = (
    10,
    20,
    30,
    40,
    50,
    60,
    70,
    80,
    100,
)
_INFIX = {
    "or": OR,
    "and": AND,
    **dict.fromkeys(COMPARISON_OPERATORS, COMPARISON),
    "+": ADDITIVE,
    "-": ADDITIVE,
    "*": MULTIPLICATIVE,
    "/": MULTIPLICATIVE,
    "^": POWER,
}
_KEYWORDS = frozenset({"and", "or", "not", "true", "false"})

# Characters of one expression: the longest calculation of a real form has a few hundred.
MAX_LENGTH = 10_000
# Deeper trees would exhaust Python's recursion limit when evaluated or printed.
MAX_DEPTH = 200
_MAX_NESTING = 100

_FIELD = re.compile(r"([A-Za-z][A-Za-z0-9_]*)(?:\(([A-Za-z0-9._-]+)\))?")
_EVENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_SMART = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+(?::[A-Za-z0-9_,:-]*)?")


def parse(source: str) -> Node:
    """The tree of one logic expression; raises ``LogicSyntaxError`` and nothing else."""
    if len(source) > MAX_LENGTH:
        # Before reading a token: the cost of reading grows with the length.
        raise LogicSyntaxError(
            f"Expression is longer than {MAX_LENGTH:,} characters "
            f"({len(source):,}); split it or simplify it",
            MAX_LENGTH,
            source[:MAX_LENGTH],
        )
    return _Parser(source).parse_all()


@functools.lru_cache(maxsize=4096)
def compile_logic(source: str) -> Node:
    """``parse``, remembered: each expression of a form is read once per process."""
    return parse(source)


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.index = 0
        self.nesting = 0

    def error(self, message: str, position: int) -> LogicSyntaxError:
        return LogicSyntaxError(message, position, self.source)

    def peek(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def unexpected(self, token: Token) -> LogicSyntaxError:
        if token.kind == "end":
            return self.error("Unexpected end of expression", token.position)
        return self.error(f"Unexpected {token.describe()}", token.position)

    def parse_all(self) -> Node:
        if self.peek().kind == "end":
            raise self.error("Empty expression", 0)
        node = self.expression(0)
        token = self.peek()
        if token.kind != "end":
            raise self.unexpected(token)
        _check_depth(node, self)
        return node

    def expression(self, min_power: int) -> Node:
        left = self.prefix()
        while True:
            token = self.peek()
            operator = token.value if token.kind in ("op", "word") else ""
            power = _INFIX.get(operator)
            if power is None or power < min_power:
                return left
            self.advance()
            if operator in ("and", "or"):
                operands = [left, self.expression(power + 1)]
                while self.peek().kind in ("op", "word") and self.peek().value == operator:
                    self.advance()
                    operands.append(self.expression(power + 1))
                left = Logical(operator, tuple(operands))
            elif power == COMPARISON:
                left = Binary(operator, left, self.expression(power + 1))
                after = self.peek()
                if after.kind == "op" and after.value in COMPARISON_OPERATORS:
                    raise self.error(
                        f"Comparisons cannot be chained: join them with 'and' "
                        f"instead of a second '{after.text}'",
                        after.position,
                    )
            elif operator == "^":
                # Right-associative: each `^` reads the rest of the chain by recursion, so
                # it counts as nesting (`2^2^...^2` must not exhaust Python's stack).
                self.enter(token)
                left = Binary("^", left, self.expression(NEGATION))
                self.nesting -= 1
            else:
                left = Binary(operator, left, self.expression(power + 1))

    def prefix(self) -> Node:
        token = self.advance()
        kind = token.kind
        if kind == "number":
            return Number(token.value)
        if kind == "string":
            return String(token.value)
        if kind == "ref":
            return self.reference(token)
        if kind == "op":
            if token.value == "(":
                self.enter(token)
                inner = self.expression(0)
                self.expect(")", f"to match the '(' at offset {token.position}")
                self.nesting -= 1
                return inner
            if token.value == "-":
                self.enter(token)
                operand = self.expression(NEGATION)
                self.nesting -= 1
                return Unary("-", operand)
            raise self.unexpected(token)
        if kind == "word":
            word = token.value
            if word == "not":
                self.enter(token)
                operand = self.expression(NOT)
                self.nesting -= 1
                return Unary("not", operand)
            if word in ("true", "false"):
                return Boolean(word == "true")
            if self.peek().kind == "op" and self.peek().value == "(":
                return self.call(token)
            if word in FUNCTIONS:
                raise self.error(f"Expected '(' after the function '{word}'", token.position)
            if word in _KEYWORDS:
                raise self.unexpected(token)
            raise self.error(
                f"Unexpected word '{token.text}': put text in quotes and fields in [brackets]",
                token.position,
            )
        raise self.unexpected(token)

    def enter(self, token: Token) -> None:
        self.nesting += 1
        if self.nesting > _MAX_NESTING:
            raise self.error("Expression is nested too deeply", token.position)

    def expect(self, operator: str, why: str) -> Token:
        token = self.peek()
        if token.kind != "op" or token.value != operator:
            raise self.error(
                f"Expected '{operator}' {why}, found {token.describe()}", token.position
            )
        return self.advance()

    def call(self, name_token: Token) -> Node:
        name = name_token.value
        if name in _KEYWORDS:
            raise self.unexpected(name_token)
        function = FUNCTIONS.get(name)
        if function is None:
            raise self.error(f"illegal function '{name_token.text}'", name_token.position)
        self.enter(name_token)
        self.advance()  # "("
        args: list[Node] = []
        positions: list[int] = []
        if not (self.peek().kind == "op" and self.peek().value == ")"):
            while True:
                positions.append(self.peek().position)
                args.append(self.expression(0))
                if self.peek().kind == "op" and self.peek().value == ",":
                    self.advance()
                    continue
                break
        self.expect(")", f"to close the arguments of {name}()")
        self.nesting -= 1
        count = len(args)
        if count < function.min_args or (
            function.max_args is not None and count > function.max_args
        ):
            raise self.error(
                f"Function '{name}' takes {function.arity_text()}, not {count}",
                name_token.position,
            )
        if name == "datediff":
            self.check_datediff(args, positions)
        return Call(name, tuple(args))

    def check_datediff(self, args: list[Node], positions: list[int]) -> None:
        """Catch a misspelt unit or format now, rather than as a silent blank later."""
        unit = args[2]
        if isinstance(unit, String) and unit.value not in DATEDIFF_UNITS:
            raise self.error(
                f"datediff() unit '{unit.value}' is not one of "
                + ", ".join(f"'{u}'" for u in DATEDIFF_UNITS),
                positions[2],
            )
        date_format = args[3] if len(args) == 5 else None
        if isinstance(date_format, String) and date_format.value not in DATEDIFF_FORMATS:
            raise self.error(
                f"datediff() date format '{date_format.value}' is not one of 'ymd', 'mdy', 'dmy'",
                positions[3],
            )

    def reference(self, token: Token) -> Node:
        parts: tuple[tuple[str, int], ...] = token.value
        if len(parts) > 3:
            raise self.error(
                "A reference has at most three brackets: [event][field][instance]", parts[3][1]
            )
        first, first_at = parts[0]
        if len(parts) == 1:
            if "-" in first and "(" not in first:
                return SmartVariable(self.smart_variable(first, first_at, SMART_VARIABLES))
            field, code = self.field(first, first_at)
            return FieldRef(field, code)
        second, second_at = parts[1]
        if len(parts) == 2 and self.is_instance(second):
            field, code = self.field(first, first_at)
            return FieldRef(field, code, None, self.instance(second, second_at))
        event = self.event(first, first_at)
        field, code = self.field(second, second_at)
        instance = None
        if len(parts) == 3:
            third, third_at = parts[2]
            if not self.is_instance(third):
                raise self.error(
                    f"[{third}] is not an instance: write a number or one of "
                    + ", ".join(f"[{name}]" for name in sorted(INSTANCE_VARIABLES)),
                    third_at,
                )
            instance = self.instance(third, third_at)
        return FieldRef(field, code, event, instance)

    @staticmethod
    def is_instance(text: str) -> bool:
        return (text.isascii() and text.isdigit()) or ("-" in text and "(" not in text)

    def instance(self, text: str, position: int) -> int | str:
        if text.isdigit():
            if int(text) < 1 or len(text) > 9:
                raise self.error(f"Instance [{text}] must be a number from 1", position)
            return int(text)
        return self.smart_variable(text, position, INSTANCE_VARIABLES)

    def smart_variable(self, text: str, position: int, allowed: frozenset[str]) -> str:
        if text in allowed:
            return text
        if _SMART.fullmatch(text) is None:
            raise self.error(f"Invalid reference [{text}]", position)
        where = "here" if allowed is INSTANCE_VARIABLES else "in registry logic"
        raise self.error(
            f"Smart variable [{text}] is not supported {where}; supported: "
            + ", ".join(f"[{name}]" for name in sorted(allowed)),
            position,
        )

    def field(self, text: str, position: int) -> tuple[str, str | None]:
        match = _FIELD.fullmatch(text)
        if match is None:
            if ":" in text:
                raise self.error(
                    f"Invalid reference [{text}]: piping options such as ':label' have no "
                    "meaning in logic",
                    position,
                )
            raise self.error(
                f"Invalid field reference [{text}]: write [field] or [field(code)]", position
            )
        return match[1], match[2]

    def event(self, text: str, position: int) -> str:
        if _EVENT.fullmatch(text) is None:
            if "-" in text:
                raise self.error(
                    f"Smart variable [{text}] is not supported as an event; name the event",
                    position,
                )
            raise self.error(f"Invalid event name [{text}]", position)
        return text


def _check_depth(node: Node, parser: _Parser) -> None:
    stack: list[tuple[Node, int]] = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise parser.error(f"Expression is nested too deeply (more than {MAX_DEPTH} levels)", 0)
        if isinstance(current, Unary):
            stack.append((current.operand, depth + 1))
        elif isinstance(current, Binary):
            stack.append((current.left, depth + 1))
            stack.append((current.right, depth + 1))
        elif isinstance(current, Logical):
            stack.extend((operand, depth + 1) for operand in current.operands)
        elif isinstance(current, Call):
            stack.extend((arg, depth + 1) for arg in current.args)
