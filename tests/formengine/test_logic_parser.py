"""Reading, printing and serialising REDCap logic: the tree, the errors, the round trips."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.formengine.logic import (
    Binary,
    Boolean,
    Call,
    FieldRef,
    Logical,
    LogicSyntaxError,
    Number,
    SmartVariable,
    String,
    Unary,
    compile_logic,
    field_references,
    from_json,
    parse,
    to_json,
    to_source,
)
from registry.formengine.logic.parser import MAX_LENGTH
from tests.formengine.logic_support import load_cases, logic_trees


def test_parses_a_show_if_rule_into_a_tree() -> None:
    assert parse("[mm_present] = '1' and [onset(1)] <> '1'") == Logical(
        "and",
        (
            Binary("=", FieldRef("mm_present"), String("1")),
            Binary("<>", FieldRef("onset", "1"), String("1")),
        ),
    )


def test_or_lists_become_one_node_rather_than_a_deep_tree() -> None:
    tree = parse(" or ".join(f"[x] = '{n}'" for n in range(300)))
    assert isinstance(tree, Logical)
    assert len(tree.operands) == 300


def test_and_binds_tighter_than_or_and_not_looser_than_comparison() -> None:
    assert parse("not [a] = 1 or [b] and [c]") == Logical(
        "or",
        (
            Unary("not", Binary("=", FieldRef("a"), Number(1))),
            Logical("and", (FieldRef("b"), FieldRef("c"))),
        ),
    )


def test_arithmetic_precedence_and_right_associative_power() -> None:
    assert parse("1 + 2 * (3)^(2)^(2)") == Binary(
        "+",
        Number(1),
        Binary("*", Number(2), Binary("^", Number(3), Binary("^", Number(2), Number(2)))),
    )
    assert parse("-2^2") == Unary("-", Binary("^", Number(2), Number(2)))
    assert parse("10 - 4 - 3") == Binary("-", Binary("-", Number(10), Number(4)), Number(3))


def test_alternative_spellings_parse_to_the_canonical_operators() -> None:
    assert parse("[a] != 1 && [b] == 2 || NOT [c]") == parse("[a] <> 1 and [b] = 2 or not [c]")
    assert to_source(parse("[a] != 1 && [b] == 2")) == "[a] <> 1 and [b] = 2"


def test_keywords_and_function_names_are_case_insensitive() -> None:
    assert parse("ROUND([a], 1) > 2 AND True") == parse("round([a], 1) > 2 and true")


def test_references_with_events_instances_and_checkbox_codes() -> None:
    assert parse("[baseline_arm_1][weight]") == FieldRef("weight", event="baseline_arm_1")
    assert parse("[weight][2]") == FieldRef("weight", instance=2)
    assert parse("[weight][previous-instance]") == FieldRef("weight", instance="previous-instance")
    assert parse("[visit_2][cb(a-b)][3]") == FieldRef("cb", "a-b", "visit_2", 3)
    assert parse("[cb(1)][last-instance]") == FieldRef("cb", "1", None, "last-instance")


def test_supported_smart_variables_parse() -> None:
    assert parse("[record-name]") == SmartVariable("record-name")
    assert parse("[current-instance] > 1") == Binary(
        ">", SmartVariable("current-instance"), Number(1)
    )


def test_comment_lines_are_ignored() -> None:
    source = "// shown when consent was given\n# (REDCap allows both)\n[consent] = '1'"
    assert parse(source) == Binary("=", FieldRef("consent"), String("1"))


def test_numbers_keep_integers_exact_and_read_exponents() -> None:
    assert parse("12") == Number(12)
    assert isinstance(parse("12").value, int)  # type: ignore[union-attr]
    assert parse("1.5e3") == Number(1500.0)
    assert parse(".5") == Number(0.5)


def test_datediff_with_format_and_signed_arguments() -> None:
    assert parse("datediff([dob], 'today', 'y', 'ymd', true)") == Call(
        "datediff",
        (FieldRef("dob"), String("today"), String("y"), String("ymd"), Boolean(True)),
    )


def test_compile_logic_parses_each_expression_once() -> None:
    assert compile_logic("[a] = 1") is compile_logic("[a] = 1")


MALFORMED = [
    ("[a] = 1)", 7, "Unexpected ')'"),
    ("foo(1)", 0, "illegal function 'foo'"),
    ("[a] = 1 and bar([b])", 12, "illegal function 'bar'"),
    ("round(1, 2, 3)", 0, "Function 'round' takes 1 or 2 arguments, not 3"),
    ("if([a] = 1, 2)", 0, "Function 'if' takes 3 arguments, not 2"),
    ("sum()", 0, "Function 'sum' takes at least 1 argument, not 0"),
    ("[a] = ", 6, "Unexpected end of expression"),
    ("[field] = 1 and", 15, "Unexpected end of expression"),
    ("'abc", 0, "Unterminated string"),
    ("[a] = 'x", 6, "Unterminated string"),
    ("[a", 0, "Unclosed '['"),
    ("[a] = 1]", 7, "Unexpected ']'"),
    ("[user-name] = 'x'", 0, "Smart variable [user-name] is not supported"),
    ("[x][record-name]", 3, "Smart variable [record-name] is not supported here"),
    ("1 < 2 < 3", 6, "Comparisons cannot be chained"),
    ("", 0, "Empty expression"),
    ("// only a comment", 0, "Empty expression"),
    ("(1 + 2", 6, "Expected ')'"),
    ("round(1, 2", 10, "Expected ')'"),
    ("[a] = 1 [b]", 8, "Unexpected '[b]'"),
    ("datediff([a], [b], 'q')", 19, "datediff() unit 'q'"),
    ("datediff([a], [b], 'd', 'iso', true)", 24, "datediff() date format 'iso'"),
    ("[a] @ 1", 4, "Unexpected character '@'"),
    ("[a] = \u20181\u2019", 6, "straight"),
    ("round", 0, "Expected '(' after the function 'round'"),
    ("[a] = yes", 6, "Unexpected word 'yes'"),
    ("[a(]", 0, "Invalid field reference [a(]"),
    ("[a:label]", 0, "piping"),
    ("[x][0]", 3, "Instance [0]"),
    ("[a][b][c]", 6, "[c] is not an instance"),
    ("[a][b][1][2]", 9, "at most three"),
    ("1 +* 2", 3, "Unexpected '*'"),
    ("[x] = .", 6, "Unexpected '.'"),
    ("1e999", 0, "too large"),
    ("[a] = 1 // not at the start of a line", 8, "comment must be on its own line"),
    ("[a] = 1 # nor this", 8, "comment must be on its own line"),
    ("and [a]", 0, "Unexpected 'and'"),
    ("[a] = !1", 6, "write 'not'"),
    ("(" * 150 + "1" + ")" * 150, 100, "nested too deeply"),
    ("1" + " + 1" * 250, 0, "nested too deeply"),
    (
        "[visit-1][a] = 1",
        0,
        "Smart variable [visit-1] is not supported as an event; name the event",
    ),
    ("[1visit][a] = 1", 0, "Invalid event name [1visit]"),
    ("[a-] = 1", 0, "Invalid reference [a-]"),
    ("[x][1234567890] = 1", 3, "Instance [1234567890] must be a number from 1"),
    ("1" * 301, 0, "Number is too long"),
]


@pytest.mark.parametrize(("source", "position", "message"), MALFORMED)
def test_malformed_expressions_say_what_and_where(source: str, position: int, message: str) -> None:
    with pytest.raises(LogicSyntaxError) as caught:
        parse(source)
    assert caught.value.position == position
    assert message in caught.value.message
    assert caught.value.source == source


def test_an_expression_over_the_length_limit_is_refused_before_it_is_read() -> None:
    source = "1" + " " * MAX_LENGTH
    with pytest.raises(LogicSyntaxError) as caught:
        parse(source)
    assert caught.value.message == (
        "Expression is longer than 10,000 characters (10,001); split it or simplify it"
    )
    assert caught.value.position == MAX_LENGTH and caught.value.source == source[:MAX_LENGTH]
    assert parse(source[:MAX_LENGTH]) == Number(1)


def test_syntax_error_reads_as_a_sentence_with_its_position() -> None:
    with pytest.raises(LogicSyntaxError) as caught:
        parse("[age] > (18 + 2))")
    assert str(caught.value) == "Unexpected ')' at position 16"
    assert caught.value.pointer() == "[age] > (18 + 2))\n                ^"


def test_printing_is_canonical() -> None:
    assert (
        to_source(parse("[a]=1 AND([b]='x' OR [b]=\"y\")"))
        == "[a] = 1 and ([b] = 'x' or [b] = 'y')"
    )
    assert to_source(parse('[a] = "it\'s"')) == '[a] = "it\'s"'
    assert to_source(parse("2^3")) == "(2)^(3)"
    assert to_source(parse("(1 + 2) * -[x]")) == "(1 + 2) * -[x]"
    assert to_source(parse("not ([a] or [b])")) == "not ([a] or [b])"


def test_text_with_both_quotes_cannot_be_printed() -> None:
    with pytest.raises(ValueError, match="both"):
        to_source(String('it\'s "quoted"'))


def test_field_references_name_fields_without_codes_or_qualifiers() -> None:
    tree = parse("if([cb(2)] = '1', [a] + sum([b], [c]), [visit][d] + [e][previous-instance])")
    assert field_references(tree) == {"cb", "a", "b", "c", "d", "e"}
    assert field_references(tree, include_qualified=False) == {"cb", "a", "b", "c"}
    assert field_references(parse("[record-name] = 'x'")) == frozenset()


def test_json_tree_has_the_documented_shape() -> None:
    assert to_json(parse("[cb(2)][1] = 1 or not round([x])")) == {
        "type": "logical",
        "op": "or",
        "operands": [
            {
                "type": "binary",
                "op": "=",
                "left": {"type": "field", "field": "cb", "code": "2", "instance": 1},
                "right": {"type": "number", "value": 1},
            },
            {
                "type": "unary",
                "op": "not",
                "operand": {
                    "type": "call",
                    "name": "round",
                    "args": [{"type": "field", "field": "x"}],
                },
            },
        ],
    }


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"type": "nonsense"},
        {"type": "number", "value": "1"},
        {"type": "number", "value": True},
        {"type": "binary", "op": "**", "left": {}, "right": {}},
        {"type": "call", "name": "eval", "args": []},
        {"type": "call", "name": "round", "args": []},
        {"type": "logical", "op": "and", "operands": [{"type": "boolean", "value": True}]},
        {"type": "field", "field": "x", "instance": 0},
        {"type": "field", "field": "x", "instance": ["1"]},
        {"type": "smart", "name": "user-name"},
    ],
)
def test_from_json_refuses_what_is_not_a_logic_tree(data: object) -> None:
    with pytest.raises(ValueError):
        from_json(data)


def test_every_case_in_the_shared_table_parses_and_round_trips() -> None:
    for case in load_cases():
        tree = parse(case["expression"])
        assert parse(to_source(tree)) == tree, case["expression"]
        assert from_json(json.loads(json.dumps(to_json(tree)))) == tree


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(logic_trees())
def test_printing_a_tree_and_parsing_it_gives_an_equal_tree(tree: object) -> None:
    source = to_source(tree)  # type: ignore[arg-type]
    assert parse(source) == tree


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(logic_trees())
def test_json_round_trip_gives_an_equal_tree(tree: object) -> None:
    data = json.loads(json.dumps(to_json(tree)))  # type: ignore[arg-type]
    assert from_json(data) == tree


_PIECES = [
    "[a]",
    "[cb(1)]",
    "[x][1]",
    "[e][f]",
    "[record-name]",
    "[user-name]",
    "[",
    "]",
    "(",
    ")",
    "'x'",
    "'",
    '"',
    "1",
    "2.5",
    "1e999",
    ".",
    "e",
    "and",
    "or",
    "not",
    "true",
    "if(",
    "datediff(",
    "round(",
    "foo(",
    ",",
    "=",
    "<>",
    "!=",
    "<",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "^",
    "#",
    "//",
    "\n",
    " ",
    "!",
    "&&",
    "||",
    "'today'",
    "'y'",
]


@settings(max_examples=500)
@given(st.text() | st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_any_text_either_parses_or_raises_a_logic_syntax_error(source: str) -> None:
    try:
        tree = parse(source)
    except LogicSyntaxError as error:
        assert 0 <= error.position <= len(source)
        return
    assert parse(to_source(tree)) == tree
