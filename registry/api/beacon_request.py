"""Reading a Beacon v2 request: the query parameters of a GET, or the JSON body of a POST.

Both give a `BeaconRequest`: the filters (registry.statistics.beacon's types), the granularity
asked for, and the summary of the request as the Beacon read it (`receivedRequestSummary`).
Anything this Beacon does not take is a `BeaconRequestError` saying which part and what would
be right, answered as a 400 in Beacon's error shape. Bodies arrive through the API's bounded
JSON parser (registry/rest/parsers.py: depth, long strings, NULs and lone surrogates are
refused before this module sees them); every pattern here is anchored, with bounded
repetitions, and runs on strings no longer than MAX_FILTER_TEXT.

A GET takes `filters` (comma-separated, or repeated), `requestedGranularity`,
`includeDescendantTerms`, and the paging parameters Beacon clients send (`skip`, `limit`,
`includeResultsetResponses`, `testMode`), which are read and echoed but change nothing: the
answer is a count. A filter on age in a GET is written `age>=P10Y`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from django.http import QueryDict

from registry.rest.parsers import shown
from registry.statistics.beacon import (
    AGE_FILTER,
    AGE_OPERATORS,
    SEX_FIELD,
    SEX_TERMS,
    AgeFilter,
    BeaconFilter,
    SexFilter,
    TermFilter,
    normalised_term,
)

API_VERSION: Final = "v2.0.0"
GRANULARITIES: Final = ("boolean", "count", "record")
DEFAULT_GRANULARITY: Final = "boolean"
MAX_FILTERS: Final = 20
MAX_FILTER_TEXT: Final = 100
"""Characters of one filter's id or value; a CURIE or a duration needs a few dozen."""

MAX_YEARS: Final = 150

_CURIE = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,30}:[A-Za-z0-9_.\-]{1,60}")
_DURATION = re.compile(r"P(?:([0-9]{1,3})Y)?(?:([0-9]{1,4})M)?")
_GET_AGE = re.compile(r"age(<=|>=|=|<|>|!)(\S{1,60})")
_RESULTSET_RESPONSES = ("ALL", "HIT", "MISS", "NONE")
_GET_PARAMETERS = frozenset(
    {
        "filters",
        "requestedGranularity",
        "includeDescendantTerms",
        "skip",
        "limit",
        "includeResultsetResponses",
        "testMode",
        "requestedSchema",
    }
)
_QUERY_KEYS = frozenset(
    {
        "filters",
        "requestedGranularity",
        "includeResultsetResponses",
        "pagination",
        "testMode",
        "requestParameters",
    }
)
_FILTER_KEYS = frozenset(
    {"id", "includeDescendantTerms", "operator", "value", "scope", "similarity"}
)


class BeaconRequestError(ValueError):
    """A request this Beacon cannot read; `message` says what is wrong and what would do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class BeaconRequest:
    filters: tuple[BeaconFilter, ...] = ()
    requested_granularity: str = DEFAULT_GRANULARITY
    summary: dict[str, Any] = field(default_factory=dict)


def default_summary() -> dict[str, Any]:
    """The summary of a request that could not be read (an error's `meta`)."""
    return {
        "apiVersion": API_VERSION,
        "requestedSchemas": [],
        "filters": [],
        "pagination": {"skip": 0, "limit": 0},
        "requestedGranularity": DEFAULT_GRANULARITY,
    }


def from_query(params: QueryDict) -> BeaconRequest:
    """The request of a GET's query parameters."""
    unknown = sorted(set(params) - _GET_PARAMETERS)
    if unknown:
        raise BeaconRequestError(
            f"Unknown parameter {shown(unknown[0])!r}; a GET takes "
            f"{', '.join(sorted(_GET_PARAMETERS))}."
        )
    descendants = _boolean(params.get("includeDescendantTerms"), "includeDescendantTerms", True)
    texts = [part.strip() for value in params.getlist("filters") for part in value.split(",")]
    texts = [text for text in texts if text]
    _check_count(len(texts))
    filters: list[BeaconFilter] = []
    for text in texts:
        age = _GET_AGE.fullmatch(text) if len(text) <= MAX_FILTER_TEXT else None
        if age is not None:
            filters.append(_age(age[1], age[2]))
        else:
            filters.append(_term(text, descendants))
    granularity = _granularity(params.get("requestedGranularity"))
    pagination = {
        "skip": _whole(params.get("skip"), "skip", 0),
        "limit": _whole(params.get("limit"), "limit", 0),
    }
    return BeaconRequest(
        tuple(filters),
        granularity,
        _summary(texts, granularity, pagination, params.get("testMode") == "true"),
    )


def from_body(body: Any) -> BeaconRequest:
    """The request of a POST's JSON body (`{"meta": {...}, "query": {...}}`)."""
    if body is None:
        body = {}
    if not isinstance(body, Mapping):
        raise BeaconRequestError(
            'The body must be a JSON object such as {"query": {"filters": [{"id": '
            '"HP:0002475"}], "requestedGranularity": "count"}}.'
        )
    query = body.get("query", {})
    if not isinstance(query, Mapping):
        raise BeaconRequestError("query must be an object holding filters and the granularity.")
    unknown = sorted(set(query) - _QUERY_KEYS)
    if unknown:
        raise BeaconRequestError(
            f"Unknown key query.{shown(str(unknown[0]))}; a query holds "
            f"{', '.join(sorted(_QUERY_KEYS))}."
        )
    raw_filters = query.get("filters", [])
    if not isinstance(raw_filters, list):
        raise BeaconRequestError("query.filters must be a list of filters.")
    _check_count(len(raw_filters))
    filters = [_filter(item, index) for index, item in enumerate(raw_filters)]
    granularity = _granularity(query.get("requestedGranularity"))
    pagination = query.get("pagination", {})
    if not isinstance(pagination, Mapping):
        raise BeaconRequestError("query.pagination must be an object with skip and limit.")
    paging = {
        "skip": _whole(pagination.get("skip"), "query.pagination.skip", 0),
        "limit": _whole(pagination.get("limit"), "query.pagination.limit", 0),
    }
    included = query.get("includeResultsetResponses", "HIT")
    if included not in _RESULTSET_RESPONSES:
        raise BeaconRequestError(
            f"query.includeResultsetResponses must be one of {', '.join(_RESULTSET_RESPONSES)}."
        )
    test_mode = _boolean(query.get("testMode"), "query.testMode", False)
    ids = [
        item.get("id") if isinstance(item, Mapping) else item
        for item in raw_filters  # each checked by _filter above
    ]
    summary = _summary([str(i) for i in ids], granularity, paging, test_mode)
    summary["includeResultsetResponses"] = included
    return BeaconRequest(tuple(filters), granularity, summary)


def _summary(
    ids: list[str], granularity: str, pagination: dict[str, int], test_mode: bool
) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "requestedSchemas": [],
        "filters": ids,
        "pagination": pagination,
        "requestedGranularity": granularity,
        "testMode": test_mode,
    }


def _check_count(count: int) -> None:
    if count > MAX_FILTERS:
        raise BeaconRequestError(
            f"{count} filters sent; a query takes at most {MAX_FILTERS}. Ask fewer at a time."
        )


def _filter(item: Any, index: int) -> BeaconFilter:
    where = f"query.filters[{index}]"
    if isinstance(item, str):
        return _term(item, True)
    if not isinstance(item, Mapping):
        raise BeaconRequestError(f"{where} must be an object with an id, or an id as text.")
    unknown = sorted(set(item) - _FILTER_KEYS)
    if unknown:
        raise BeaconRequestError(
            f"Unknown key {where}.{shown(str(unknown[0]))}; a filter holds "
            f"{', '.join(sorted(_FILTER_KEYS))}."
        )
    filter_id = item.get("id")
    if not isinstance(filter_id, str) or not filter_id:
        raise BeaconRequestError(f"{where} needs an id, such as HP:0002475 or age.")
    scope = item.get("scope", "individual")
    if scope not in ("individual", "individuals"):
        raise BeaconRequestError(
            f"{where} ({shown(filter_id)}): this Beacon answers for individuals only; "
            f"scope {shown(str(scope))!r} is not one of its entry types."
        )
    if item.get("similarity", "exact") != "exact":
        raise BeaconRequestError(
            f"{where} ({shown(filter_id)}): only exact similarity is answered; leave "
            "similarity out."
        )
    descendants = _boolean(
        item.get("includeDescendantTerms"), f"{where}.includeDescendantTerms", True
    )
    operator, value = item.get("operator"), item.get("value")
    if operator is None and value is None:
        return _term(filter_id, descendants)
    if filter_id.strip().lower() == AGE_FILTER:
        if not isinstance(operator, str) or not isinstance(value, str):
            raise BeaconRequestError(
                f"{where} (age) needs an operator ({', '.join(AGE_OPERATORS)}) and a value, "
                "an ISO 8601 duration such as P10Y."
            )
        return _age(operator, value)
    if normalised_term(_checked_id(filter_id)) == SEX_FIELD:
        return _sex(operator, value, where)
    raise BeaconRequestError(
        f"{shown(filter_id)} takes no operator or value: only age and {SEX_FIELD} (sex) do; "
        "send an ontology term by its id alone."
    )


def _checked_id(filter_id: str) -> str:
    text = filter_id.strip()
    if len(text) > MAX_FILTER_TEXT or not _CURIE.fullmatch(text):
        raise BeaconRequestError(
            f"Filter {shown(filter_id)!r} is not a term id: write a CURIE such as HP:0002475, "
            "ORPHA:478 or NCIT:C16576, or use age with an operator."
        )
    return text


def _term(filter_id: str, descendants: bool) -> TermFilter:
    if filter_id.strip().lower() == AGE_FILTER:
        raise BeaconRequestError(
            "Filter age needs an operator and a value, such as age>=P10Y in a GET or "
            '{"id": "age", "operator": ">=", "value": "P10Y"} in a POST.'
        )
    return TermFilter(_checked_id(filter_id), descendants)


def _sex(operator: Any, value: Any, where: str) -> SexFilter:
    values = value if isinstance(value, list) else [value]
    if operator != "=" or not values or not all(isinstance(v, str) for v in values):
        raise BeaconRequestError(
            f"{where} ({SEX_FIELD}, sex) takes the operator = and a value (or a list of "
            f"them) among {', '.join(SEX_TERMS)}."
        )
    if len(values) > len(SEX_TERMS):
        raise BeaconRequestError(f"{where} ({SEX_FIELD}) lists more values than there are.")
    sexes = set()
    for v in values:
        code = normalised_term(_checked_id(v))
        if code not in SEX_TERMS:
            raise BeaconRequestError(
                f"{where} ({SEX_FIELD}): {shown(v)!r} is not a sex this Beacon knows; "
                f"use one of {', '.join(SEX_TERMS)}."
            )
        sexes.add(str(SEX_TERMS[code][0]))
    return SexFilter(frozenset(sexes))


def _age(operator: str, value: str) -> AgeFilter:
    if operator not in AGE_OPERATORS:
        raise BeaconRequestError(
            f"Filter age: operator {shown(operator)!r} is not one of {', '.join(AGE_OPERATORS)}."
        )
    match = _DURATION.fullmatch(value.strip()) if len(value) <= MAX_FILTER_TEXT else None
    if match is None or not (match[1] or match[2]):
        raise BeaconRequestError(
            f"Filter age: {shown(value)!r} is not an age this Beacon reads; write an ISO 8601 "
            "duration in whole years and months, such as P10Y, P18M or P1Y6M."
        )
    months = int(match[1] or 0) * 12 + int(match[2] or 0)
    if months > MAX_YEARS * 12:
        raise BeaconRequestError(f"Filter age: {value} is more than {MAX_YEARS} years.")
    return AgeFilter(operator, months)


def _granularity(value: Any) -> str:
    if value is None or value == "":
        return DEFAULT_GRANULARITY
    if value not in GRANULARITIES:
        raise BeaconRequestError(
            f"requestedGranularity must be one of {', '.join(GRANULARITIES)}; this Beacon "
            "answers boolean or count."
        )
    return str(value)


def _boolean(value: Any, name: str, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return bool(value)
    if value in ("true", "false"):
        return bool(value == "true")
    raise BeaconRequestError(f"{name} must be true or false.")


def _whole(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10**9:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 9:
        return int(value)
    raise BeaconRequestError(f"{name} must be a whole number, 0 or more.")
