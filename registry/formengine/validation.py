"""Validation of one submission against one form version.

``validate_submission`` takes what arrived (strings from a web form or a CSV file, JSON numbers
and lists from the API) and returns the cleaned document that is stored, or the reasons it
cannot be. Everything the schema knows is enforced here, in one place, so that the web forms,
the API, the REDCap endpoint and the importers all accept exactly the same data.

Decisions worth knowing (docs/form-schema.md explains them to form authors):

- Blank means absent: ``None``, ``""``, whitespace and an empty list are all "no answer", and
  blanks are left out of the stored document.
- A field hidden by its show_if must be blank. A value there is an error naming the field,
  unless ``clear_hidden=True`` (the web form's "the answers changed, drop what no longer
  applies"), when it is removed and listed in ``cleared_hidden``.
- Calc fields are always recomputed; a submitted value that differs is replaced and reported in
  ``recomputed``, never an error (a client may hold a stale figure).
- Identifier fields are declared (so REDCap dictionaries map one to one) but never stored: a value
  for one is an error, so that nobody believes it was kept.
- Text has a limit: MAX_TEXT_LENGTH characters for any answer, MAX_NOTES_LENGTH for a notes
  field. A longer value is an error naming the field, found before anything reads the value.
- Logic may read fields of other forms (``schema.external_fields``): their values come in
  ``other_forms`` (the record's stored values, typed as stored), are read as constants, and are
  never part of the cleaned document. One that is not given is blank.
- Unknown keys are errors naming them. REDCap flat checkbox columns (``field___code``) are
  accepted and folded into the checkbox's list.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import reprlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from registry.formengine import logic
from registry.formengine.actiontags import ActionTags, Conditional
from registry.formengine.hpo import hpo_release
from registry.formengine.logic.compiler import Compiled, compile_tree
from registry.formengine.logic.context import Context
from registry.formengine.phi import screen_free_text
from registry.formengine.schema import ONTOLOGY_TERM, Check, Field, FormSchema
from registry.formengine.values import (
    format_datetime,
    format_number,
    parse_date,
    parse_datetime,
    parse_integer,
    parse_number,
    parse_time,
)

__all__ = [
    "FORM_ERRORS",
    "MAX_NOTES_LENGTH",
    "MAX_TEXT_LENGTH",
    "ValidationResult",
    "validate_submission",
]

FORM_ERRORS: Final = "__all__"
"""The ``errors`` key for problems that belong to the submission as a whole."""

MAX_TEXT_LENGTH: Final = 2_000
"""Characters of any answer but a note: a line of text, a code, a number, a date."""

MAX_NOTES_LENGTH: Final = 10_000
"""Characters of a notes answer: a few pages of findings, more than any form has needed."""

_CHECKED = frozenset({"1", "checked", "true", "yes", "y"})
_UNCHECKED = frozenset({"0", "unchecked", "false", "no", "n", ""})
_ALPHA_ERROR = "letters only"


@dataclass
class ValidationResult:
    """The outcome of validating one submission.

    ``data`` is the document to store (typed, blanks left out, in form order); it is complete
    only when ``errors`` is empty. ``errors`` maps a field name (or ``FORM_ERRORS``) to
    plain-language messages. ``recomputed`` maps a calc field to (submitted, computed) where the
    server's value replaced a different one the client sent. ``cleared_hidden`` lists the hidden
    fields whose values were dropped because ``clear_hidden`` was asked for.
    """

    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    recomputed: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    cleared_hidden: list[str] = field(default_factory=list)
    hidden: frozenset[str] = frozenset()
    """Fields not shown given these answers (their show_if is false)."""
    missing: list[str] = field(default_factory=list)
    """Required fields shown and left blank, when ``require_answers`` was False (a draft)."""
    tags: dict[str, ActionTags] = field(default_factory=dict)
    """The action tags in effect, given these answers, of the fields with an @IF."""

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def add_error(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)


class _Blank:
    """The normalised form of "no answer"."""


_BLANK: Final = _Blank()


class _Invalid:
    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


Normaliser = Callable[[Field, Any, dt.date], Any]


def validate_submission(
    schema: FormSchema,
    data: Mapping[str, Any],
    *,
    clear_hidden: bool = False,
    today: dt.date | None = None,
    require_answers: bool = True,
    other_forms: Mapping[str, Any] | None = None,
) -> ValidationResult:
    """Check ``data`` against ``schema`` and return the cleaned document and any errors.

    ``require_answers=False`` checks a draft: a required field shown and left blank is listed
    in ``missing`` instead of being an error; every other rule still applies.

    ``other_forms`` holds the values of the record's other forms that the logic reads (by
    field name, as stored); only ``schema.external_fields`` are taken from it.
    """
    result = ValidationResult()
    if not isinstance(data, Mapping):
        result.add_error(FORM_ERRORS, "A submission must be a set of field names and values.")
        return result
    today = today or dt.date.today()
    plan = _plan_for(schema)
    missing = schema.missing_code_set
    raw = _collect(schema, data, result)
    values, submitted_calcs, failed = _typed_values(plan, raw, missing, today, result)
    if other_forms and schema.external_fields:
        # Read by the logic like the form's own answers; the cleaned document takes only the
        # form's own names, so they never become part of it.
        for name in schema.external_fields:
            value = other_forms.get(name)
            if value is not None and not _is_blank(value):
                values[name] = value
    # One context for every tree: it reads `values` as the steps below fill it in.
    ctx = Context(values, today, missing, None)
    hidden = _logic_steps(plan, ctx, values, submitted_calcs, failed, raw, result, clear_hidden)
    if plan.conditional:
        _conditional_tags(plan, values, failed, hidden, ctx, result)
    _required(plan, values, failed, hidden, result, require_answers)
    for f in plan.piped:
        _piped_limits(f, schema, values, failed, hidden, result)
    _checks(plan, failed, hidden, ctx, result)
    result.hidden = frozenset(hidden)
    result.data = {name: values[name] for name in plan.names if name in values}
    return result


def _typed_values(
    plan: _Plan,
    raw: Mapping[str, Any],
    missing: frozenset[str],
    today: dt.date,
    result: ValidationResult,
) -> tuple[dict[str, Any], dict[str, Any], set[str]]:
    """The answers typed (or kept as missing codes), the calcs as submitted, and the fields
    whose answer was refused."""
    values: dict[str, Any] = {}
    submitted_calcs: dict[str, Any] = {}
    failed: set[str] = set()
    for name, f, role, normalise in plan.entries:
        value = raw.get(name)
        if value is None:
            continue
        if (
            isinstance(value, str)
            and len(value) > MAX_TEXT_LENGTH
            and _too_long(name, f, value, result)
        ):
            failed.add(name)
            continue
        code: str | None
        if type(value) is str:
            # Most values are text: one strip serves the blank test and the missing-code test.
            code = value.strip()
            if not code:
                continue
        elif _is_blank(value):
            continue
        else:
            code = _missing_code(value)
        if role is _CALC:
            submitted_calcs[name] = value
        elif role is _NOT_STORED:
            why = (
                "is an identifier and is never stored by the registry; leave it blank"
                if f.identifier
                else "is descriptive text and takes no value"
            )
            result.add_error(name, f"{f.display_name} {why}.")
            failed.add(name)
        elif code in missing:
            values[name] = code
        else:
            typed = normalise(f, value, today)
            if isinstance(typed, _Invalid):
                result.add_error(name, typed.message)
                failed.add(name)
            elif typed is not _BLANK:
                values[name] = typed
    return values, submitted_calcs, failed


def _too_long(name: str, f: Field, value: str, result: ValidationResult) -> bool:
    limit = MAX_NOTES_LENGTH if f.type == "notes" else MAX_TEXT_LENGTH
    if len(value) <= limit:
        return False
    result.add_error(
        name,
        f"{f.display_name} has {len(value):,} characters; at most {limit:,} are kept. Shorten it.",
    )
    return True


def _logic_steps(
    plan: _Plan,
    ctx: Context,
    values: dict[str, Any],
    submitted_calcs: Mapping[str, Any],
    failed: set[str],
    raw: Mapping[str, Any],
    result: ValidationResult,
    clear_hidden: bool,
) -> set[str]:
    """Each field's show_if and calculation in evaluation order; the fields left hidden."""
    hidden: set[str] = set()
    for f, show_if, calc in plan.logic_steps:
        if show_if is not None:
            try:
                shown = show_if(ctx)
            except logic.LogicEvaluationError:
                shown = None  # as _evaluate decides it, without a call per field
            if not _truthy(shown):
                hidden.add(f.name)
                if f.name in values or f.name in failed:
                    _hide(f, values, failed, raw, result, clear_hidden)
        if calc is not None:
            if f.type == "calc":
                _recompute(f, calc, values, submitted_calcs, hidden, ctx, result)
            else:
                _recompute_text(f, calc, values, submitted_calcs, hidden, ctx, result)
    return hidden


def _required(
    plan: _Plan,
    values: Mapping[str, Any],
    failed: set[str],
    hidden: set[str],
    result: ValidationResult,
    require_answers: bool,
) -> None:
    for name, f in plan.required:
        tags = result.tags.get(name)
        if tags is not None and (tags.hidden or tags.readonly):
            continue
        if name not in hidden and name not in values and name not in failed:
            if require_answers:
                result.add_error(name, f"{f.display_name} is required.")
                failed.add(name)
            else:
                result.missing.append(name)


def _checks(
    plan: _Plan, failed: set[str], hidden: set[str], ctx: Context, result: ValidationResult
) -> None:
    for check, compiled in plan.checks:
        if check.field in hidden or check.references & failed:
            continue
        outcome = _evaluate(compiled, ctx)
        # Only a definite "no" blocks: a rule that cannot be decided (blank result) waits for
        # the answers it needs, which required flags or later edits supply.
        if outcome is False or (_is_number(outcome) and outcome == 0):
            result.add_error(check.field, check.message)


def _collect(
    schema: FormSchema, data: Mapping[str, Any], result: ValidationResult
) -> dict[str, Any]:
    """The submitted values by field name, folding REDCap checkbox columns into lists."""
    raw: dict[str, Any] = {}
    columns: dict[str, list[str]] = {}
    for key, value in data.items():
        if key in schema.fields_by_name:
            raw[key] = value
            continue
        column = schema.checkbox_columns.get(key) if isinstance(key, str) else None
        if column is None:
            result.add_error(str(key)[:100], _unknown_key(schema, key))
            continue
        name, code = column
        state = _checkbox_state(value)
        if state is None:
            result.add_error(
                name,
                f"{schema.field(name).display_name}: column {key} must be 1 (checked) or "
                f"0 (unchecked); you entered {_shown(value)}.",
            )
            continue
        checked = columns.setdefault(name, [])
        if state:
            checked.append(code)
    for name, checked in columns.items():
        if name in raw and not _is_blank(raw[name]):
            result.add_error(
                name,
                f"{schema.field(name).display_name} was given both as a list and as "
                f"{name}___ columns; send one or the other.",
            )
            continue
        raw[name] = checked
    return raw


def _unknown_key(schema: FormSchema, key: object) -> str:
    name = str(key)
    if len(name) > 100:
        return f"'{name[:40]}…' ({len(name):,} characters) is not a field of form {schema.form}."
    close = difflib.get_close_matches(name, schema.field_names, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return f"'{name}' is not a field of form {schema.form} (version {schema.version}).{hint}"


def _checkbox_state(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | float):
        return True if value == 1 else False if value == 0 else None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _CHECKED:
            return True
        if text in _UNCHECKED:
            return False
    return None


def _hide(
    f: Field,
    values: dict[str, Any],
    failed: set[str],
    raw: Mapping[str, Any],
    result: ValidationResult,
    clear_hidden: bool,
) -> None:
    had_value = f.name in values or (f.name in failed and f.stores_data)
    values.pop(f.name, None)
    if not had_value or f.type == "calc":
        return
    if clear_hidden:
        # The value was never going to be kept; a parse error on it no longer matters.
        result.errors.pop(f.name, None)
        failed.discard(f.name)
        result.cleared_hidden.append(f.name)
        return
    result.errors.pop(f.name, None)
    failed.add(f.name)
    result.add_error(
        f.name,
        f"{f.display_name} must be blank: it is not asked given the other answers "
        f"(it shows only if {f.show_if}). Clear it, or change the answer it depends on.",
    )


def _recompute(
    f: Field,
    calc: Compiled,
    values: dict[str, Any],
    submitted: Mapping[str, Any],
    hidden: set[str],
    ctx: Context,
    result: ValidationResult,
) -> None:
    computed: int | float | None = None
    if f.name not in hidden:
        computed = _as_number(_evaluate(calc, ctx))
    if computed is None:
        values.pop(f.name, None)
    else:
        values[f.name] = computed
    if f.name in submitted:
        sent = submitted[f.name]
        sent_number = parse_number(sent)
        same = (
            sent_number is not None
            and computed is not None
            and math.isclose(sent_number, computed, rel_tol=1e-9, abs_tol=1e-9)
        )
        if not same:
            result.recomputed[f.name] = (sent, computed)


def _conditional_tags(
    plan: _Plan,
    values: dict[str, Any],
    failed: set[str],
    hidden: set[str],
    ctx: Context,
    result: ValidationResult,
) -> None:
    """@IF: its condition read with the answers being saved, its chosen tags enforced."""

    def decide(conditional: Conditional) -> bool:
        return _truthy(_evaluate(plan.conditions[conditional.condition], ctx))

    missing = ctx.missing
    for f in plan.conditional:
        tags = f.tags.resolve(decide)
        result.tags[f.name] = tags
        value = values.get(f.name)
        if (
            value is None
            or f.name in failed
            or f.name in hidden
            or (isinstance(value, str) and value in missing)
        ):
            continue
        problem = (
            _text_limits(f, tags, value)
            if isinstance(value, str)
            else _checkbox_limits(f, tags, value)
            if isinstance(value, list)
            else None
        )
        if problem is not None:
            result.add_error(f.name, problem.message)
            failed.add(f.name)
            values.pop(f.name)


def _piped_limits(
    f: Field,
    schema: FormSchema,
    values: Mapping[str, Any],
    failed: set[str],
    hidden: set[str],
    result: ValidationResult,
) -> None:
    """A limit taken from another field: checked once both are known and typed alike."""
    if f.name not in values or f.name in failed or f.name in hidden:
        return
    value = values[f.name]
    missing = schema.missing_code_set
    for key, name in f.piped_bounds:
        if name not in values or name in failed:
            continue
        bound = values[name]
        if value in missing or bound in missing:
            continue
        try:
            outside = value < bound if key == "min" else value > bound
        except TypeError:
            continue
        if outside:
            other = schema.field(name).display_name
            word = "at least" if key == "min" else "at most"
            result.add_error(
                f.name,
                f"{f.display_name} must be {word} {other} "
                f"({_plain(bound)}); you entered {_plain(value)}.",
            )
            failed.add(f.name)
            return


def _plain(value: Any) -> str:
    return format_number(value) if _is_number(value) else str(value)


def _recompute_text(
    f: Field,
    calc: Compiled,
    values: dict[str, Any],
    submitted: Mapping[str, Any],
    hidden: set[str],
    ctx: Context,
    result: ValidationResult,
) -> None:
    """A @CALCTEXT field: computed like a calc, kept as text."""
    computed: str | None = None
    if f.name not in hidden:
        outcome = _evaluate(calc, ctx)
        if isinstance(outcome, bool):
            outcome = int(outcome)
        if isinstance(outcome, int | float):
            computed = format_number(outcome) if math.isfinite(outcome) else None
        elif isinstance(outcome, str):
            computed = outcome.strip()[:MAX_TEXT_LENGTH] or None
    if computed is None:
        values.pop(f.name, None)
    else:
        values[f.name] = computed
    if f.name in submitted:
        sent = submitted[f.name]
        shown = (
            sent
            if isinstance(sent, str)
            else format_number(sent)
            if isinstance(sent, int | float) and not isinstance(sent, bool)
            else sent
        )
        if (shown.strip() if isinstance(shown, str) else shown) != computed:
            result.recomputed[f.name] = (sent, computed)


def _evaluate(compiled: Compiled, ctx: Context) -> Any:
    try:
        return compiled(ctx)
    except logic.LogicEvaluationError:
        # The schema refuses references that need another event or instance; anything left
        # cannot be decided here and counts as blank.
        return None


def _truthy(value: Any) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, str):
        return value.strip().lower() not in {"0", "false"}
    return bool(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_number(value: Any) -> int | float | None:
    """A calc result as stored: a JSON number, or None when the result is blank or not one."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str) and value.strip():
        number = parse_number(value)
        if number is not None and number.is_integer() and "." not in value:
            return int(number)
        return number
    return None


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple):
        return not value
    return False


def _missing_code(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list | tuple) and len(value) == 1 and isinstance(value[0], str):
        return value[0].strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _shown(value: Any) -> str:
    """A submitted value quoted for an error message, shortened."""
    # Cut first: the value may be megabytes long, or nested deeper than repr can go.
    text = value[:200] if isinstance(value, str) else reprlib.repr(value)
    text = " ".join(text.split())
    if len(text) > 40:
        text = text[:39] + "…"
    return f"'{text}'"


# --------------------------------------------------------------------------------------------
# Per-type normalisers: (field, submitted value) -> typed value, _BLANK, or _Invalid(message)


def _range_text(low: object, high: object) -> str:
    def show(bound: object) -> str:
        if isinstance(bound, float):
            return format_number(bound)
        if isinstance(bound, dt.datetime):
            return bound.strftime("%Y-%m-%d %H:%M")
        if isinstance(bound, dt.date):
            return bound.isoformat()
        return str(bound)

    if low is not None and high is not None:
        return f" between {show(low)} and {show(high)}"
    if low is not None:
        return f" of at least {show(low)}"
    if high is not None:
        return f" of at most {show(high)}"
    return ""


def _resolve(bound: object, today: dt.date, *, moment: bool) -> object:
    if bound == "today":
        return dt.datetime.combine(today, dt.time()) if moment else today
    if bound == "now":
        return dt.datetime.now().replace(second=0, microsecond=0) if moment else today
    return bound


def _in_range(value: Any, f: Field, today: dt.date, *, moment: bool = False) -> bool:
    low = _resolve(f.lower, today, moment=moment)
    high = _resolve(f.upper, today, moment=moment)
    if low is not None and value < low:
        return False
    return not (high is not None and value > high)


def _text(f: Field, value: Any, today: dt.date) -> Any:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return _Invalid(f"{f.display_name} must be text; you sent {_shown(value)}.")
    text = value if isinstance(value, str) else format_number(value)
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    limited = _text_limits(f, f.tags, text)
    if limited is not None:
        return limited
    if f.pattern_regex is not None and not f.pattern_regex.search(text):
        if f.pattern_message:
            return _Invalid(f"{f.display_name}: {f.pattern_message}")
        return _Invalid(f"{f.display_name} is not in the expected format.")
    if f.phi_screen:
        hits = screen_free_text(text)
        if hits:
            found = hits[0] if len(hits) == 1 else ", ".join(hits[:-1]) + " and " + hits[-1]
            return _Invalid(
                f"{f.display_name} contains what looks like {found}. Remove it: the registry "
                "must not hold names, contact details, dates or hospital numbers."
            )
    return text


def _text_limits(f: Field, tags: ActionTags, text: str) -> _Invalid | None:
    if tags.charlimit is not None and len(text) > tags.charlimit:
        return _Invalid(
            f"{f.display_name} has {len(text):,} characters; at most "
            f"{tags.charlimit:,} are allowed."
        )
    if tags.wordlimit is not None and len(text.split()) > tags.wordlimit:
        return _Invalid(
            f"{f.display_name} has {len(text.split()):,} words; at most "
            f"{tags.wordlimit:,} are allowed."
        )
    return None


def _ontology_term(f: Field, value: Any, today: dt.date) -> Any:
    """A term of the field's ontology, as its code. An HPO code must be a term of the HPO
    release the registry holds (hpo.py, offline); any other ontology's code is accepted by
    its CURIE shape (the registry has no connection to look terms up)."""
    text = value.strip() if isinstance(value, str) else ""
    shape = ONTOLOGY_TERM.fullmatch(text)
    hpo = f.ontology.upper() == "HP"
    if shape is None or (hpo and not re.fullmatch(r"HP[:_]\d{7}", text, re.IGNORECASE)):
        example = "HP:0001250" if hpo else f"{f.ontology}:0000000"
        return _Invalid(
            f"{f.display_name} must be a {f.ontology} term's code, for example "
            f"{example}; you entered {_shown(value)}."
        )
    if hpo:
        release = hpo_release()
        term = release.term(text)
        if term is None:
            return _Invalid(
                f"{f.display_name}: {text} is not a term of the Human Phenotype "
                f"Ontology (release {release.version}); choose one from the list."
            )
        if term.obsolete:
            instead = release.term(term.replaced_by) if term.replaced_by else None
            hint = (
                f"; use {instead.id} ({instead.name}) instead"
                if instead
                else "; choose a current term"
            )
            return _Invalid(
                f"{f.display_name}: {text} ({term.name}) is obsolete in the Human "
                f"Phenotype Ontology{hint}."
            )
    return text


def _alpha(f: Field, value: Any, today: dt.date) -> Any:
    if not isinstance(value, str) or not all(ch.isalpha() for ch in value.strip()):
        return _Invalid(f"{f.display_name} must be {_ALPHA_ERROR}; you entered {_shown(value)}.")
    return _text(f, value, today)


def _integer(f: Field, value: Any, today: dt.date) -> Any:
    number = parse_integer(value)
    if number is None or not _in_range(number, f, today):
        what = "a whole number"
        return _Invalid(
            f"{f.display_name} must be {what}{_range_text(f.lower, f.upper)}; "
            f"you entered {_shown(value)}."
        )
    return number


def _number(f: Field, value: Any, today: dt.date) -> Any:
    info = f.validation_info
    assert info is not None
    number = parse_number(value, decimals=info.decimals, comma=info.comma)
    if number is None or not _in_range(number, f, today):
        return _Invalid(
            f"{f.display_name} must be {info.description}{_range_text(f.lower, f.upper)}; "
            f"you entered {_shown(value)}."
        )
    return number


def _date(f: Field, value: Any, today: dt.date) -> Any:
    day = parse_date(value)
    if day is None or not _in_range(day, f, today):
        return _Invalid(
            f"{f.display_name} must be a date written YYYY-MM-DD"
            f"{_range_text(f.lower, f.upper)}; you entered {_shown(value)}."
        )
    return day.isoformat()


def _datetime(f: Field, value: Any, today: dt.date) -> Any:
    info = f.validation_info
    assert info is not None
    moment = parse_datetime(value, seconds=info.seconds)
    if moment is None or not _in_range(moment, f, today, moment=True):
        return _Invalid(
            f"{f.display_name} must be {info.description}{_range_text(f.lower, f.upper)}; "
            f"you entered {_shown(value)}."
        )
    return format_datetime(moment, seconds=info.seconds)


def _time(f: Field, value: Any, today: dt.date) -> Any:
    info = f.validation_info
    assert info is not None
    text = parse_time(value, info.time_format)
    if text is None or not _in_range(text, f, today):
        return _Invalid(
            f"{f.display_name} must be {info.description}{_range_text(f.lower, f.upper)}; "
            f"you entered {_shown(value)}."
        )
    return text


def _choice_code(value: Any) -> str | None:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value.strip()
    return None


def _options(f: Field) -> str:
    pairs = [f"{code} ({label})" for code, label in f.all_choices()]
    if len(pairs) > 8:
        pairs = [*pairs[:8], "…"]
    return ", ".join(pairs)


def _single_choice(f: Field, value: Any, today: dt.date) -> Any:
    code = value.strip() if type(value) is str else _choice_code(value)
    if code is None or code not in f.choice_labels:
        return _Invalid(
            f"{f.display_name} must be one of {_options(f)}; you entered {_shown(value)}."
        )
    return code


def _checkbox(f: Field, value: Any, today: dt.date) -> Any:
    if isinstance(value, str):
        items: list[Any] = [part for part in value.split(",") if part.strip()]
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    else:
        items = [value]
    chosen = set()
    unknown = []
    for item in items:
        code = _choice_code(item)
        if code is None or code not in f.choice_labels:
            unknown.append(_shown(item))
        else:
            chosen.add(code)
    if unknown:
        return _Invalid(
            f"{f.display_name}: {', '.join(unknown)} "
            f"{'is not one of its options' if len(unknown) == 1 else 'are not among its options'}"
            f" ({_options(f)})."
        )
    if not chosen:
        return _BLANK
    ordered = [code for code in f.choice_codes if code in chosen]
    limited = _checkbox_limits(f, f.tags, ordered)
    return ordered if limited is None else limited


def _checkbox_limits(f: Field, tags: ActionTags, chosen: list[str]) -> _Invalid | None:
    alone = [code for code in tags.none_of_the_above if code in chosen]
    if alone and len(chosen) > 1:
        label = f.choice_labels[alone[0]]
        return _Invalid(
            f"{f.display_name}: '{label}' cannot be ticked together with another option."
        )
    if tags.maxchecked is not None and len(chosen) > tags.maxchecked:
        return _Invalid(
            f"{f.display_name}: at most {tags.maxchecked} option"
            f"{'s' if tags.maxchecked != 1 else ''} may be ticked; you ticked "
            f"{len(chosen)}."
        )
    return None


def _slider(f: Field, value: Any, today: dt.date) -> Any:
    number = parse_integer(value)
    if number is None or not _in_range(number, f, today):
        return _Invalid(
            f"{f.display_name} must be a whole number{_range_text(f.lower, f.upper)}; "
            f"you entered {_shown(value)}."
        )
    return number


def _file(f: Field, value: Any, today: dt.date) -> Any:
    if not isinstance(value, str):
        return _Invalid(f"{f.display_name} must be a reference to an uploaded file.")
    return value.strip()


_BY_FAMILY: Final[dict[str, Normaliser]] = {
    "integer": _integer,
    "number": _number,
    "date": _date,
    "datetime": _datetime,
    "time": _time,
    "alpha": _alpha,
    "identifier": _text,
}
_BY_TYPE: Final[dict[str, Normaliser]] = {
    "notes": _text,
    "dropdown": _single_choice,
    "radio": _single_choice,
    "yesno": _single_choice,
    "truefalse": _single_choice,
    "checkbox": _checkbox,
    "slider": _slider,
    "file": _file,
}


def _normaliser(f: Field) -> Normaliser:
    if f.type == "text" and f.ontology:
        return _ontology_term
    if f.type == "text":
        info = f.validation_info
        return _text if info is None else _BY_FAMILY[info.family]
    return _BY_TYPE.get(f.type, _text)


# What a submitted value of a field is for (the `role` of a plan entry).
_STORED, _CALC, _NOT_STORED = "stored", "calc", "not stored"


@dataclass(frozen=True)
class _Plan:
    """What validating against one schema needs, worked out once and kept on the schema."""

    entries: tuple[tuple[str, Field, str, Normaliser], ...]
    """(name, field, role, normaliser) of every field, in form order."""
    names: tuple[str, ...]
    required: tuple[tuple[str, Field], ...]
    logic_steps: tuple[tuple[Field, Compiled | None, Compiled | None], ...]
    """(field, compiled show_if, compiled calc) of the fields with logic, in evaluation order."""
    checks: tuple[tuple[Check, Compiled], ...]
    piped: tuple[Field, ...] = ()
    """Fields with a limit taken from another field."""
    conditional: tuple[Field, ...] = ()
    """Fields with an @IF in their annotation."""
    conditions: Mapping[str, Compiled] = field(default_factory=dict)
    """Each @IF condition, compiled once."""


def _role(f: Field) -> str:
    if f.is_computed:
        return _CALC
    return _STORED if f.stores_data else _NOT_STORED


def _compiled(node: logic.Node | None) -> Compiled | None:
    return None if node is None else compile_tree(node)


def _plan_for(schema: FormSchema) -> _Plan:
    # Built once per schema and kept on it, so a submission costs only the per-value work.
    cache = schema.cache
    plan = cache.get("validation_plan")
    if not isinstance(plan, _Plan):
        plan = _Plan(
            entries=tuple((f.name, f, _role(f), _normaliser(f)) for f in schema.fields),
            names=tuple(f.name for f in schema.fields),
            # A field the page hides or does not let anyone edit (@HIDDEN, @READONLY) could
            # never be filled there, so its required flag is not enforced.
            required=tuple(
                (f.name, f)
                for f in schema.fields
                if f.required and not (f.tags.hidden or f.tags.readonly)
            ),
            logic_steps=tuple(
                (
                    f,
                    None if f.show_if_logic is None else compile_tree(f.show_if_logic),
                    _compiled(f.calc_logic if f.calc_logic is not None else f.calctext_logic),
                )
                for f in schema.evaluation_order
                if f.show_if_logic is not None
                or f.calc_logic is not None
                or f.calctext_logic is not None
            ),
            checks=tuple((check, compile_tree(check.logic)) for check in schema.checks),
            piped=tuple(f for f in schema.fields if f.piped_bounds),
            conditional=tuple(f for f in schema.fields if f.tags.conditionals),
            conditions={
                c.condition: compile_tree(c.logic)
                for f in schema.fields
                for part in f.tags.every()
                for c in part.conditionals
            },
        )
        cache["validation_plan"] = plan
    return plan
