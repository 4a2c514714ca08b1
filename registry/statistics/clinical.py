"""The registry's clinical questions as statistics tables, reading the fields forms/statistics.yaml
names (settings.STATISTICS_FILE).

The file says which form and field each table reads; this module says what each kind of table
computes from them. `load_statistics_file` checks the file: its shape alone at start-up
(checks.py), against the forms before a version is published (crfs/field_uses.py) and before
every computation, so that a version that renames or drops a field a table reads is refused
with the table and the field named, instead of emptying the table.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

from registry.formengine.harmonise import Harmonisation, harmonised_field, rename_hint

from .aggregates import (
    SUBMISSIONS,
    choice_rows,
    count_table,
    fetch,
    missing_code_rows,
    summarise_column,
)
from .catalogue import FormInfo, is_categorical, is_numeric
from .jsonsql import JsonSql

DAYS_PER_MONTH = 30.44
TICKED = "'1'"  # the code of a one-option checkbox such as "since early childhood"

_KEY = re.compile(r"[a-z][a-z0-9_]{2,59}")
_FIELD = re.compile(r"(?P<form>[a-z][a-z0-9_]*)\.(?P<field>[a-z][a-z0-9_]*)")


# --------------------------------------------------------------------------------------------
# The declarations


@dataclass(frozen=True)
class Role:
    """What a kind of table reads under one key: a field (or, `many`, a list of fields)."""

    wants: str  # categorical, yesno, checkbox or numeric
    many: bool = False
    group: str = ""  # roles of one group read one form (they are read from one submission)


KINDS: dict[str, dict[str, Role]] = {
    "status_by_lesion": {
        "lesion": Role("categorical"),
        "status": Role("yesno"),
    },
    "highest_grade_by_lesion": {
        "lesion": Role("categorical"),
        "grades": Role("categorical", many=True),
    },
    "status_after_procedure": {
        "procedures": Role("checkbox", group="surgery"),
        "surgery_age_days": Role("numeric", group="surgery"),
        "follow_up_age_months": Role("numeric", group="follow_up"),
        "follow_up_status": Role("categorical", group="follow_up"),
    },
    "age_at_onset": {
        "onset_months": Role("numeric", group="onset"),
        "since_early_childhood": Role("checkbox", group="onset"),
    },
}

_WANTED = {
    "categorical": ("a choice field", is_categorical),
    "yesno": ("a yes/no field", lambda f: f.type in ("yesno", "truefalse")),
    "checkbox": ("a checkbox field", lambda f: f.type == "checkbox"),
    "numeric": ("a number", is_numeric),
}


@dataclass(frozen=True)
class FieldUse:
    form: str
    field: str

    def __str__(self) -> str:
        return f"{self.form}.{self.field}"


@dataclass(frozen=True)
class ClinicalTable:
    key: str
    kind: str
    title: str
    reads: Mapping[str, tuple[FieldUse, ...]]

    def one(self, role: str) -> FieldUse:
        return self.reads[role][0]

    @property
    def forms(self) -> set[str]:
        return {use.form for uses in self.reads.values() for use in uses}


class StatisticsFileError(Exception):
    """forms/statistics.yaml cannot be used; `problems` lists what is wrong, each located."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def load_statistics_file(
    forms: Mapping[str, Harmonisation] | None,
    path: Path | None = None,
    *,
    only: Collection[str] | None = None,
) -> list[ClinicalTable]:
    """The file's tables whose forms are all published, checked against `forms` (each form's
    versions lined up). With `forms` None, the file's shape alone is checked and every table
    is given. With `only`, problems are reported for the tables reading those forms alone.
    """
    path = Path(path or settings.STATISTICS_FILE)
    if not path.exists():
        return []
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise StatisticsFileError([f"{path}: not valid YAML: {error}"]) from error
    if not isinstance(document, dict) or not isinstance(document.get("tables") or [], list):
        raise StatisticsFileError([f"{path}: the file must hold `tables:`, a list of tables"])
    problems: list[str] = []
    unknown = sorted(set(document) - {"tables"})
    if unknown:
        problems.append(f"{path.name}: unknown key(s) {', '.join(unknown)}; the file holds tables")
    tables: list[ClinicalTable] = []
    seen: set[str] = set()
    for index, entry in enumerate(document.get("tables") or []):
        where = f"{path.name} tables[{index}]"
        table = _table(entry, where, seen, problems)
        if table is None:
            continue
        where = f"{where} ({table.key})"
        if forms is not None:
            if not table.forms <= set(forms):
                continue  # a form it reads is not published yet
            found = _field_problems(table, where, forms)
            if only is None or table.forms & set(only):
                problems.extend(found)
            if found:
                continue
        tables.append(table)
    if problems:
        raise StatisticsFileError(problems)
    return tables


def _table(entry: Any, where: str, seen: set[str], problems: list[str]) -> ClinicalTable | None:
    if not isinstance(entry, dict):
        problems.append(
            f"{where}: a table is a mapping with key, kind, title and the fields its kind reads"
        )
        return None
    missing = [key for key in ("key", "kind", "title") if not entry.get(key)]
    if missing:
        problems.append(f"{where}: {', '.join(missing)} missing")
        return None
    key, kind = str(entry["key"]), str(entry["kind"])
    where = f"{where} ({key})"
    if not _KEY.fullmatch(key):
        problems.append(
            f"{where}: key {key!r} must be 3 to 60 lower-case letters, digits or "
            "underscores, starting with a letter"
        )
    elif key in seen:
        problems.append(f"{where}: key {key!r} is already taken")
    seen.add(key)
    roles = KINDS.get(kind)
    if roles is None:
        problems.append(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
        return None
    given = set(entry) - {"key", "kind", "title"}
    unknown, absent = sorted(given - set(roles)), sorted(set(roles) - given)
    if unknown:
        problems.append(
            f"{where}: unknown key(s) {', '.join(unknown)}; a {kind} table reads {', '.join(roles)}"
        )
    if absent:
        problems.append(f"{where}: {', '.join(absent)} missing")
        return None
    reads: dict[str, tuple[FieldUse, ...]] = {}
    for role, spec in roles.items():
        value = entry[role]
        items = value if spec.many and isinstance(value, list) else [value]
        if not items or (isinstance(value, list) and not spec.many):
            problems.append(
                f"{where}: {role} is one form.field"
                if not spec.many
                else f"{where}: {role} is a list of form.field"
            )
            return None
        uses = []
        for item in items:
            match = _FIELD.fullmatch(str(item))
            if match is None:
                problems.append(f"{where}: {role} {item!r} must name a field as form.field")
                return None
            uses.append(FieldUse(match["form"], match["field"]))
        reads[role] = tuple(uses)
    groups: dict[str, set[str]] = {}
    for role, spec in roles.items():
        if spec.group or spec.many:
            groups.setdefault(spec.group or role, set()).update(u.form for u in reads[role])
    for group, group_forms in groups.items():
        if len(group_forms) > 1:
            together = [role for role, spec in roles.items() if (spec.group or role) == group]
            problems.append(
                f"{where}: {', '.join(together)} must be fields of one form, not "
                f"{' and '.join(sorted(group_forms))}"
            )
            return None
    return ClinicalTable(key, kind, str(entry["title"]), reads)


def _field_problems(
    table: ClinicalTable, where: str, forms: Mapping[str, Harmonisation]
) -> list[str]:
    problems = []
    for role, uses in table.reads.items():
        description, fits = _WANTED[KINDS[table.kind][role].wants]
        for use in uses:
            harmonisation = forms[use.form]
            found = harmonised_field(harmonisation, use.field)
            latest = max(harmonisation.versions)
            if found is None:
                problems.append(
                    f"{where}: {role} reads {use}, which is not a field of "
                    f"{use.form} v{latest}{rename_hint(harmonisation, use.field)}"
                )
            elif found.retired:
                problems.append(
                    f"{where}: {role} reads {use}, which {use.form} v{latest} no "
                    "longer has; name a field the form still asks, or take the "
                    "table out"
                )
            elif not fits(found.field):
                problems.append(
                    f"{where}: {role} reads {use}, which is a {found.field.type} "
                    f"field; a {table.kind} table needs {description} there"
                )
    return problems


def field_use_problems(forms: Mapping[str, Harmonisation], changed: Collection[str]) -> list[str]:
    """For crfs/field_uses.py: what the tables reading the `changed` forms would lose."""
    try:
        load_statistics_file(forms, only=changed)
    except StatisticsFileError as error:
        return error.problems
    return []


# --------------------------------------------------------------------------------------------
# The tables


_MM_COLUMNS = [
    ("present", "Mirror movements present"),
    ("absent", "Absent at every assessment"),
    ("unknown", "Unknown"),
    ("not_assessed", "Not assessed"),
]
_ONSET_BINS = [
    ("lt1", "Under 1 year"),
    ("1to2", "1 to 2 years"),
    ("2to5", "2 to 5 years"),
    ("5to10", "5 to 10 years"),
    ("10plus", "10 years or older"),
    ("early", "Since early childhood (no age given)"),
]


def clinical_tables(sql: JsonSql, catalogue: Mapping[str, FormInfo]) -> list[dict[str, Any]]:
    """The tables of forms/statistics.yaml whose forms are published, in the file's order."""
    declared = load_statistics_file({name: info.harmonisation for name, info in catalogue.items()})
    computed: dict[str, dict[str, Any]] = {}
    # Tables of the same status by lesion fields of the same forms come from one pass.
    batches: dict[tuple[FieldUse, str], list[ClinicalTable]] = {}
    for table in declared:
        if table.kind == "status_by_lesion":
            batches.setdefault((table.one("status"), table.one("lesion").form), []).append(table)
    for (status, lesion_form), tables in batches.items():
        computed.update(
            _status_by_lesion(
                sql, catalogue[lesion_form], catalogue[status.form], status.field, tables
            )
        )
    for table in declared:
        if table.kind == "highest_grade_by_lesion":
            computed[table.key] = _highest_grade_by_lesion(sql, table, catalogue)
        elif table.kind == "status_after_procedure":
            computed[table.key] = _status_after_procedure(sql, table, catalogue)
        elif table.kind == "age_at_onset":
            computed[table.key] = _age_at_onset(sql, table, catalogue)
    return [computed[table.key] for table in declared]


def _value(info: FormInfo, name: str, kind: str, sql: JsonSql) -> str:
    return sql.by_version("s", info.version_names(info.harmonised_field(name)), kind)


def _status_cte(sql: JsonSql, form: FormInfo, field: str) -> str:
    present = _value(form, field, "text", sql)
    return (
        f"SELECT s.patient_id AS pid, MAX(CASE WHEN {present} = '1' THEN 2 "
        f"WHEN {present} = '0' THEN 1 ELSE 0 END) AS st FROM {SUBMISSIONS} s "
        "WHERE s.form_id = %s GROUP BY s.patient_id"
    )


def _lesion_cte(sql: JsonSql, lesion: FormInfo, field: str) -> str:
    value = _value(lesion, field, "text", sql)
    return (
        f"SELECT DISTINCT s.patient_id AS pid, {value} AS code FROM {SUBMISSIONS} s "
        f"WHERE s.form_id = %s AND {value} IS NOT NULL"
    )


def _status_by_lesion(
    sql: JsonSql, lesion: FormInfo, assessed: FormInfo, status: str, tables: Sequence[ClinicalTable]
) -> dict[str, dict[str, Any]]:
    """The status by each lesion field of `tables`, from one pass over the assessments (each
    patient's status) and one over the lesions (every field at once)."""
    status_names = {2: "present", 1: "absent", 0: "unknown", -1: "not_assessed"}
    fields = [table.one("lesion").field for table in tables]
    join, (f, code) = sql.fan_out(
        [(_value(lesion, field, "text", sql),) for field in fields], "x", ("code",)
    )
    rows = fetch(
        f"WITH mm AS ({_status_cte(sql, assessed, status)}), les AS (SELECT DISTINCT "
        f"s.patient_id AS pid, {f} AS f, {code} AS code FROM {SUBMISSIONS} s {join} "
        f"WHERE s.form_id = %s AND {code} IS NOT NULL) "
        "SELECT les.f, les.code, COALESCE(mm.st, -1), COUNT(*) FROM les "
        "LEFT JOIN mm ON mm.pid = les.pid GROUP BY les.f, les.code, COALESCE(mm.st, -1)",
        [assessed.form.pk, lesion.form.pk],
    )
    counts: dict[int, dict[tuple[str, str], int]] = {}
    for index, value, st, n in rows:
        counts.setdefault(int(index), {})[(value, status_names[int(st)])] = int(n)
    computed = {}
    for index, (table, field) in enumerate(zip(tables, fields, strict=True)):
        field_counts = counts.get(index, {})
        label = lesion.harmonised_field(field).field.display_name
        computed[table.key] = count_table(
            table.key,
            table.title,
            unit="patients",
            rows=_codes_seen(lesion, field, (value for value, _ in field_counts)),
            columns=_MM_COLUMNS,
            counts=field_counts,
            row_title=label,
            column_title="Mirror movements",
            note="A patient counts once in each row of a lesion they have; mirror movements "
            "are present if any assessment found them.",
        )
    return computed


def _codes_seen(info: FormInfo, field: str, seen: Iterable[str]) -> list[tuple[str, str]]:
    """A field's choices, then the missing codes and any other values that occur."""
    rows = choice_rows(info, info.harmonised_field(field))
    seen = set(seen)
    rows += [(code, f"{label} ({code})") for code, label in missing_code_rows(info) if code in seen]
    known = {code for code, _ in rows}
    return rows + [(code, code) for code in sorted(seen - known)]


def _highest_grade_by_lesion(
    sql: JsonSql, table: ClinicalTable, catalogue: Mapping[str, FormInfo]
) -> dict[str, Any]:
    lesion_use = table.one("lesion")
    lesion, graded = catalogue[lesion_use.form], catalogue[table.one("grades").form]
    # Every grade (both hands') from one pass over the assessments.
    join, (_, grade) = sql.fan_out(
        [(_value(graded, use.field, "text", sql),) for use in table.reads["grades"]], "x", ("g",)
    )
    rows = fetch(
        f"WITH wt AS (SELECT s.patient_id AS pid, MAX(CAST({grade} AS INTEGER)) AS g "
        f"FROM {SUBMISSIONS} s {join} WHERE s.form_id = %s "
        f"AND {grade} IN ('0', '1', '2', '3', '4') GROUP BY s.patient_id), "
        f"les AS ({_lesion_cte(sql, lesion, lesion_use.field)}) "
        "SELECT les.code, wt.g, COUNT(*) FROM les JOIN wt ON wt.pid = les.pid "
        "GROUP BY les.code, wt.g",
        [graded.form.pk, lesion.form.pk],
    )
    counts = {(code, str(int(grade))): int(n) for code, grade, n in rows}
    return count_table(
        table.key,
        table.title,
        unit="patients",
        rows=_codes_seen(lesion, lesion_use.field, (code for code, _ in counts)),
        columns=[(str(g), f"Grade {g}") for g in range(5)],
        counts=counts,
        row_title="Type of lesion",
        column_title="Highest grade",
        note="The highest grade of any assessment and either hand's task; patients with a "
        "grade recorded.",
    )


def _status_after_procedure(
    sql: JsonSql, table: ClinicalTable, catalogue: Mapping[str, FormInfo]
) -> dict[str, Any]:
    procedures_use, status_use = table.one("procedures"), table.one("follow_up_status")
    surgery, follow_up = catalogue[procedures_use.form], catalogue[status_use.form]
    procedures = surgery.version_names(surgery.harmonised_field(procedures_use.field))
    days = _value(surgery, table.one("surgery_age_days").field, "number", sql)
    fu_age = _value(follow_up, table.one("follow_up_age_months").field, "number", sql)
    fu_mm = _value(follow_up, status_use.field, "text", sql)
    rows = fetch(
        f"WITH surg AS (SELECT s.patient_id AS pid, e.value AS code, {days} AS days "
        f"FROM {SUBMISSIONS} s {sql.elements('s', procedures, 'e')} WHERE s.form_id = %s), "
        f"fu AS (SELECT s.patient_id AS pid, s.instance AS inst, {fu_age} AS age, "
        f"{fu_mm} AS st FROM {SUBMISSIONS} s WHERE s.form_id = %s AND {fu_mm} IS NOT NULL "
        f"AND {fu_age} IS NOT NULL), "
        "pairs AS (SELECT surg.pid, surg.code, fu.st, ROW_NUMBER() OVER (PARTITION BY "
        "surg.pid, surg.code ORDER BY fu.age DESC, fu.inst DESC) AS rn FROM surg "
        f"JOIN fu ON fu.pid = surg.pid WHERE surg.days IS NOT NULL "
        f"AND fu.age * {DAYS_PER_MONTH} >= surg.days) "
        "SELECT code, st, COUNT(*) FROM pairs WHERE rn = 1 GROUP BY code, st",
        [surgery.form.pk, follow_up.form.pk],
    )
    counts = {(code, st): int(n) for code, st, n in rows}
    columns = _codes_seen(follow_up, status_use.field, (st for _, st in counts))
    return count_table(
        table.key,
        table.title,
        unit="patients",
        rows=_codes_seen(surgery, procedures_use.field, (code for code, _ in counts)),
        columns=columns,
        counts=counts,
        row_title="Procedure",
        column_title="Mirror movements at follow-up",
        note="For each patient and procedure, the latest follow-up visit on or after the "
        "operation; a patient counts once in each procedure they had.",
    )


def _age_at_onset(
    sql: JsonSql, table: ClinicalTable, catalogue: Mapping[str, FormInfo]
) -> dict[str, Any]:
    onset_use = table.one("onset_months")
    mm = catalogue[onset_use.form]
    onset = _value(mm, onset_use.field, "number", sql)
    early_names = mm.version_names(mm.harmonised_field(table.one("since_early_childhood").field))
    early = (
        " OR ".join(
            f"(s.form_version_id = {int(version_id)} AND {sql.contains('s', name, TICKED)})"
            for version_id, name in early_names.items()
            if name
        )
        or "(1 = 0)"
    )
    cte = (
        f"SELECT s.patient_id AS pid, MIN({onset}) AS age, "
        f"MAX(CASE WHEN {early} THEN 1 ELSE 0 END) AS early FROM {SUBMISSIONS} s "
        "WHERE s.form_id = %s GROUP BY s.patient_id"
    )
    rows = fetch(
        f"WITH onset AS ({cte}) SELECT CASE WHEN age IS NULL THEN 'early' "
        "WHEN age < 12 THEN 'lt1' WHEN age < 24 THEN '1to2' WHEN age < 60 THEN '2to5' "
        "WHEN age < 120 THEN '5to10' ELSE '10plus' END AS bin, COUNT(*) FROM onset "
        "WHERE age IS NOT NULL OR early = 1 GROUP BY 1",
        [mm.form.pk],
    )
    counts = {(code, "n"): int(n) for code, n in rows}
    result = count_table(
        table.key,
        table.title,
        unit="patients",
        rows=_ONSET_BINS,
        columns=[("n", "Patients")],
        counts=counts,
        row_title="Age at onset",
        note="The earliest age at onset recorded for each patient.",
    )
    result["summary"] = summarise_column(
        sql,
        f"SELECT MIN({onset}) AS v FROM {SUBMISSIONS} s WHERE s.form_id = %s GROUP BY s.patient_id",
        [mm.form.pk],
    )
    result["summary_title"] = "Age at onset (months), patients with an age recorded"
    return result
