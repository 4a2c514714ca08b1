"""The browser evaluator (registry/formengine/js/logic.js) agrees with the server's.

Both run the same trees: the shared case table, and random trees against random records.
Needs ``node`` on PATH.
"""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.formengine.logic import (
    LogicEvaluationError,
    evaluate,
    parse,
    to_json,
)
from tests.formengine.logic_support import (
    case_id,
    evaluation_options,
    load_cases,
    logic_trees,
    same_value,
)

NODE = shutil.which("node")
RUNNER = Path(__file__).with_name("logic_runner.js")
CASES = load_cases()

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not on PATH")


def python_answer(case: dict[str, Any], tree: Any) -> dict[str, Any]:
    try:
        value = evaluate(tree, case["record"], **evaluation_options(case))
    except LogicEvaluationError:
        return {"error": "LogicEvaluationError"}
    # Through JSON, as the browser would see it.
    return {"value": json.loads(json.dumps(value))}


def same_answer(python: dict[str, Any], javascript: dict[str, Any]) -> bool:
    if "error" in python or "error" in javascript:
        return python.get("error") == javascript.get("error")
    return same_value(javascript["value"], python["value"])


@pytest.fixture(scope="module")
def table_answers(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    batch = [{**case, "ast": to_json(parse(case["expression"]))} for case in CASES]
    cases_file = tmp_path_factory.mktemp("logic") / "cases.json"
    cases_file.write_text(json.dumps(batch), encoding="utf-8")
    completed = subprocess.run(
        [str(NODE), str(RUNNER), str(cases_file)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    answers: list[dict[str, Any]] = json.loads(completed.stdout)
    return answers


@pytest.mark.parametrize("index", range(len(CASES)), ids=[case_id(case) for case in CASES])
def test_shared_case_table_in_javascript(index: int, table_answers: list[dict[str, Any]]) -> None:
    case = CASES[index]
    answer = table_answers[index]
    assert "value" in answer, answer
    assert same_value(answer["value"], case["expected"]), f"got {answer['value']!r}"
    assert same_answer(python_answer(case, parse(case["expression"])), answer)


def test_qualified_reference_without_resolver_is_an_error_in_both() -> None:
    case = {"record": {}, "ast": to_json(parse("[baseline][weight] = 1"))}
    completed = subprocess.run(
        [str(NODE), str(RUNNER)],
        input=json.dumps(case) + "\n",
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(completed.stdout)["error"] == "LogicEvaluationError"
    with pytest.raises(LogicEvaluationError):
        evaluate(parse("[baseline][weight] = 1"), {})


class _NodeSession:
    """One node process answering one case per line, so random testing stays fast."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [str(NODE), str(RUNNER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def ask(self, case: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(case) + "\n")
        self.process.stdin.flush()
        answer: dict[str, Any] = json.loads(self.process.stdout.readline())
        return answer

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def node_session() -> Iterator[_NodeSession]:
    session = _NodeSession()
    yield session
    session.close()


# Random records and trees stay within what both languages represent alike: integers that
# are exact as doubles, finite floats, Latin text (Unicode case tables differ between Python
# and ICU versions), and no log or power (libm and V8 may differ in the last bit).
_SAFE_INTEGER = 2**53
_LATIN = st.text(alphabet="abcAB01 -.:'_", max_size=8)
_values = st.one_of(
    st.none(),
    st.sampled_from(["", "0", "1", "2", "-3.5", "1e3", "UNK", "-99", "2024-02-29", "10:30"]),
    _LATIN,
    st.integers(-_SAFE_INTEGER, _SAFE_INTEGER),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.lists(st.sampled_from(["1", "2", "other", "UNK"]), max_size=3),
)
_trees = logic_trees(
    st.sampled_from(["a", "b", "cb"]),
    qualified=False,
    text=_LATIN,
    max_integer=_SAFE_INTEGER,
    exclude=frozenset({"log", "pow", "^"}),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tree=_trees,
    record=st.fixed_dictionaries({}, optional={"a": _values, "b": _values, "cb": _values}),
    missing_codes=st.lists(st.sampled_from(["UNK", "-99"]), max_size=2, unique=True),
)
def test_javascript_agrees_with_python_on_random_trees(
    node_session: _NodeSession, tree: Any, record: dict[str, Any], missing_codes: list[str]
) -> None:
    case = {"record": record, "today": "2024-06-15", "missing_codes": missing_codes}
    python = python_answer(case, tree)
    javascript = node_session.ask({**case, "ast": to_json(tree)})
    assert same_answer(python, javascript), (python, javascript)


def test_today_option_reads_a_date() -> None:
    tree = to_json(parse("datediff('today', '2024-06-20', 'd')"))
    case = {"record": {}, "ast": tree, "today": "2024-06-15"}
    completed = subprocess.run(
        [str(NODE), str(RUNNER)],
        input=json.dumps(case) + "\n",
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(completed.stdout) == {"value": 5}
    assert (
        evaluate(
            parse("datediff('today', '2024-06-20', 'd')"), {}, today=datetime.date(2024, 6, 15)
        )
        == 5
    )
