"""Compiled trees give exactly what evaluate() gives: the tree walker is the reference."""

from __future__ import annotations

import datetime
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.formengine.logic import LogicEvaluationError, Node, evaluate, parse
from registry.formengine.logic.compiler import compile_tree, evaluate_compiled
from tests.formengine.logic_support import (
    case_id,
    evaluation_options,
    load_cases,
    logic_trees,
    record_values,
    same_value,
)

CASES = load_cases()
TODAY = datetime.date(2024, 6, 15)


def _outcome(run: Any) -> tuple[str, Any]:
    try:
        return "value", run()
    except LogicEvaluationError as error:
        return "error", str(error)


def _same_outcome(compiled: tuple[str, Any], walked: tuple[str, Any]) -> bool:
    if compiled[0] != walked[0]:
        return False
    if compiled[0] == "error":
        return compiled[1] == walked[1]
    value, expected = compiled[1], walked[1]
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(value, float) and math.isnan(value)
    return type(value) is type(expected) and value == expected


@pytest.mark.parametrize("case", CASES, ids=[case_id(case) for case in CASES])
def test_compiled_tree_passes_the_shared_case_table(case: dict[str, Any]) -> None:
    compiled = compile_tree(parse(case["expression"]))
    result = evaluate_compiled(compiled, case["record"], **evaluation_options(case))
    assert same_value(result, case["expected"]), f"got {result!r}"


@given(
    tree=logic_trees(st.sampled_from(["a", "b", "cb"])),
    record=st.fixed_dictionaries(
        {},
        optional={
            "a": record_values,
            "b": record_values,
            "cb": record_values,
            "current-instance": st.sampled_from([1, 2, "3", None]),
        },
    ),
    missing=st.sampled_from([(), ("UNK",), ("UNK", "-99")]),
)
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_compiled_tree_agrees_with_the_tree_walker(
    tree: Node, record: dict[str, Any], missing: tuple[str, ...]
) -> None:
    def resolver(field: str, event: str | None, instance: int | str | None) -> Any:
        return record.get(field)

    options = {"today": TODAY, "missing_codes": missing, "resolver": resolver}
    compiled = compile_tree(tree)
    assert _same_outcome(
        _outcome(lambda: evaluate_compiled(compiled, record, **options)),
        _outcome(lambda: evaluate(tree, record, **options)),
    )


@pytest.mark.parametrize("expression", ["[x] = '1'", "[x] <> 2", "[x] = ''", "[cb(2)] = '1'"])
@pytest.mark.parametrize(
    "value",
    [None, "", "1", "01", "1.0", 1, 1.0, 2, "2", True, ["1", "2"], [1, 2], [], "UNK"],
)
def test_comparison_with_a_constant_is_evaluate_s_comparison(expression: str, value: Any) -> None:
    record = {"x": value, "cb": value}
    assert evaluate_compiled(compile_tree(parse(expression)), record) is evaluate(
        parse(expression), record
    )


def test_whole_number_results_are_integers() -> None:
    result = evaluate_compiled(compile_tree(parse("[a] / 2 + 0.5")), {"a": "3"})
    assert result == 2
    assert type(result) is int


def test_qualified_reference_without_resolver_is_an_evaluation_error() -> None:
    compiled = compile_tree(parse("[baseline][weight] > 50"))
    with pytest.raises(LogicEvaluationError, match=r"\[baseline\]\[weight\]"):
        evaluate_compiled(compiled, {"weight": 60})


def test_compiled_tree_reads_the_record_at_each_call() -> None:
    compiled = compile_tree(parse("[a] + 1"))
    record: dict[str, Any] = {"a": 1}
    first = evaluate_compiled(compiled, record)
    record["a"] = 41
    assert (first, evaluate_compiled(compiled, record)) == (2, 42)


@pytest.mark.parametrize("expression", ["[x] = '1'", "[x] <> 'alive'", "[x] = ''"])
def test_one_comparison_stays_right_over_many_records(expression: str) -> None:
    # A comparison with a constant remembers its answers for the texts it met: the same
    # compiled tree, run over many records in turn (more distinct texts than it remembers,
    # each met twice), must still answer each as evaluate does.
    compiled, tree = compile_tree(parse(expression)), parse(expression)
    texts = ["1", "01", "1.0", " 1", "alive", "Alive", "", "x", *(str(n) for n in range(300))]
    for value in texts + texts:
        assert evaluate_compiled(compiled, {"x": value}) is evaluate(tree, {"x": value}), value
