"""Evaluating REDCap logic against submission data, with REDCap's rules for blanks."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.formengine.logic import (
    LogicEvaluationError,
    evaluate,
    parse,
    truthy,
)
from tests.formengine.logic_support import (
    case_id,
    evaluation_options,
    load_cases,
    logic_trees,
    record_values,
    same_value,
)

CASES = load_cases()


@pytest.mark.parametrize("case", CASES, ids=[case_id(case) for case in CASES])
def test_shared_case_table(case: dict[str, Any]) -> None:
    result = evaluate(parse(case["expression"]), case["record"], **evaluation_options(case))
    assert same_value(result, case["expected"]), f"got {result!r}"


def test_whole_number_results_are_integers() -> None:
    result = evaluate(parse("[a] / 2 + 0.5"), {"a": "3"})
    assert result == 2
    assert type(result) is int


def test_qualified_reference_without_resolver_is_an_evaluation_error() -> None:
    with pytest.raises(LogicEvaluationError, match=r"\[baseline\]\[weight\]"):
        evaluate(parse("[baseline][weight] > 50"), {"weight": 60})


def test_resolver_receives_field_event_and_instance() -> None:
    calls = []

    def resolver(field: str, event: str | None, instance: int | str | None) -> Any:
        calls.append((field, event, instance))
        return "1"

    evaluate(parse("[visit_2][cb(3)][2] + [w][next-instance]"), {}, resolver=resolver)
    assert calls == [("cb", "visit_2", 2), ("w", None, "next-instance")]


def test_instance_smart_variables_become_numbers_when_the_record_knows_the_current_one() -> None:
    calls = []

    def resolver(field: str, event: str | None, instance: int | str | None) -> Any:
        calls.append(instance)
        return 1

    record = {"current-instance": 4, "last-instance": "7"}
    evaluate(
        parse("[w][previous-instance] + [w][next-instance] + [w][last-instance]"),
        record,
        resolver=resolver,
    )
    assert calls == [3, 5, 7]


def test_smart_variable_the_record_does_not_carry_is_an_evaluation_error() -> None:
    with pytest.raises(LogicEvaluationError, match="record-dag-name"):
        evaluate(parse("[record-dag-name] = 'TUMS'"), {})


def test_today_defaults_to_the_local_date() -> None:
    before = datetime.date.today()
    result = evaluate(parse("datediff('today', [d], 'd', true)"), {"d": before.isoformat()})
    assert result in (0, -1)  # -1 only if the date turned while evaluating


def test_missing_codes_accept_any_collection() -> None:
    tree = parse("isblankormissingcode([x]) and [x] + 1 = ''")
    assert evaluate(tree, {"x": "NA"}, missing_codes=["NA", "UNK"]) is True
    assert evaluate(tree, {"x": "NA"}, missing_codes=frozenset({"NA"})) is True
    assert evaluate(tree, {"x": "NA"}) is False


def test_only_the_branch_that_if_picks_is_evaluated() -> None:
    # The untaken branch would need a resolver; evaluating it would raise.
    assert evaluate(parse("if(true, 1, [other][x])"), {}) == 1
    assert evaluate(parse("[a] = 1 or [other][x] = 1"), {"a": 1}) is True
    assert evaluate(parse("[a] = 2 and [other][x] = 1"), {"a": 1}) is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", False),
        (None, False),
        ("0", False),
        (0, False),
        ("0.0", False),
        ("1", True),
        ("no", True),
        (True, True),
        (False, False),
        ([], False),
        (["1"], True),
    ],
)
def test_truthiness(value: Any, expected: bool) -> None:
    assert truthy(value) is expected


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    logic_trees(st.sampled_from(["a", "b", "cb"]), qualified=False),
    st.fixed_dictionaries(
        {}, optional={"a": record_values, "b": record_values, "cb": record_values}
    ),
    st.lists(st.sampled_from(["UNK", "-99", ""]), max_size=2),
)
def test_no_record_makes_evaluation_raise(
    tree: Any, record: dict[str, Any], codes: list[str]
) -> None:
    result = evaluate(tree, record, today=datetime.date(2024, 6, 15), missing_codes=codes)
    assert result is not None
