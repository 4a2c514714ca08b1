"""Shared by the logic tests: the table of cases, and hypothesis strategies for logic trees."""

from __future__ import annotations

import datetime
import json
import math
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from registry.formengine.logic import (
    FUNCTIONS,
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
from registry.formengine.logic.nodes import ARITHMETIC_OPERATORS, COMPARISON_OPERATORS
from registry.formengine.logic.smart_variables import INSTANCE_VARIABLES, SMART_VARIABLES

CASES_FILE = Path(__file__).with_name("logic_cases.json")


def load_cases() -> list[dict[str, Any]]:
    with CASES_FILE.open(encoding="utf-8") as handle:
        cases: list[dict[str, Any]] = json.load(handle)
    return cases


def case_id(case: dict[str, Any]) -> str:
    record = json.dumps(case["record"], sort_keys=True, ensure_ascii=False)
    return f"{case['expression']} | {record}".replace("\n", "\\n")


def evaluation_options(case: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of evaluate() that a case asks for."""
    options: dict[str, Any] = {"missing_codes": case.get("missing_codes", ())}
    if "today" in case:
        options["today"] = datetime.date.fromisoformat(case["today"])
    if "resolver" in case:
        table = {
            (field, event, instance): value for field, event, instance, value in case["resolver"]
        }

        def resolver(field: str, event: str | None, instance: int | str | None) -> Any:
            return table.get((field, event, instance))

        options["resolver"] = resolver
    return options


def same_value(actual: Any, expected: Any) -> bool:
    """Equal, with booleans kept apart from numbers and floats compared to 12 digits."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return math.isclose(actual, expected, rel_tol=1e-12, abs_tol=1e-15)
    return type(actual) is type(expected) and actual == expected


# --- strategies -------------------------------------------------------------------------------

names = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
codes = st.from_regex(r"[A-Za-z0-9._-]{1,6}", fullmatch=True)
instances = st.integers(1, 999) | st.sampled_from(sorted(INSTANCE_VARIABLES))
booleans = st.builds(Boolean, st.booleans())


def field_refs(field_names: st.SearchStrategy[str], qualified: bool) -> st.SearchStrategy[Node]:
    plain = st.builds(FieldRef, field_names, st.none() | codes)
    if not qualified:
        return plain
    return plain | st.builds(FieldRef, field_names, st.none() | codes, names, st.none() | instances)


def logic_trees(
    field_names: st.SearchStrategy[str] = names,
    *,
    qualified: bool = True,
    text: st.SearchStrategy[str] | None = None,
    max_integer: int = 10**20,
    exclude: frozenset[str] = frozenset(),
    max_leaves: int = 20,
) -> st.SearchStrategy[Node]:
    """Any tree the parser could produce.

    ``qualified=False`` leaves out what needs a resolver or context (other events and
    instances, smart variables); ``exclude`` leaves out functions and operators by name.
    """
    numbers = st.builds(
        Number,
        st.integers(0, max_integer)
        | st.floats(min_value=0, allow_nan=False, allow_infinity=False).map(abs),
    )
    # The language has no escapes: one text cannot hold both kinds of quote.
    strings = st.builds(
        String,
        (st.text() if text is None else text).filter(
            lambda value: not ("'" in value and '"' in value)
        ),
    )
    functions = sorted(name for name in FUNCTIONS if name != "datediff" and name not in exclude)
    operators = sorted((COMPARISON_OPERATORS | ARITHMETIC_OPERATORS) - exclude)
    leaves = numbers | strings | booleans | field_refs(field_names, qualified)
    if qualified:
        leaves = leaves | st.sampled_from(sorted(SMART_VARIABLES)).map(SmartVariable)

    def extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
        def call(name: str) -> st.SearchStrategy[Node]:
            function = FUNCTIONS[name]
            most = function.max_args if function.max_args is not None else function.min_args + 3
            return st.lists(children, min_size=function.min_args, max_size=most).map(
                lambda args: Call(name, tuple(args))
            )

        tails = st.sampled_from([(), ("ymd",), ("dmy", True), (False,)]).map(
            lambda tail: tuple(String(x) if isinstance(x, str) else Boolean(x) for x in tail)
        )
        datediff = st.builds(
            lambda first, second, unit, tail: Call(
                "datediff", (first, second, String(unit), *tail)
            ),
            children,
            children | st.just(String("today")),
            st.sampled_from(["y", "M", "d", "h", "m", "s"]),
            tails,
        )
        return st.one_of(
            st.builds(Unary, st.sampled_from(["not", "-"]), children),
            st.builds(
                Binary,
                st.sampled_from(operators),
                children,
                children,
            ),
            st.builds(
                Logical,
                st.sampled_from(["and", "or"]),
                st.lists(children, min_size=2, max_size=4).map(tuple),
            ),
            st.sampled_from(functions).flatmap(call),
            datediff,
        )

    return st.recursive(leaves, extend, max_leaves=max_leaves)


record_values = st.one_of(
    st.none(),
    st.just(""),
    st.sampled_from(["0", "1", "2", "-3.5", "1e3", "UNK", "-99", "2024-02-29", "2020-01-01 10:30"]),
    st.text(max_size=8),
    st.integers(-(10**400), 10**400),
    st.floats(),
    st.booleans(),
    st.lists(st.sampled_from(["1", "2", "other", "UNK"]), max_size=3),
)
