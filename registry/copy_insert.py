"""Inserting many new rows of one model at once, by COPY on PostgreSQL.

`bulk_create` on PostgreSQL sends each column as one array parameter, and psycopg builds the
text of an array of JSON documents in Python: for the submissions and audit events of a large
import that costs several times the INSERT itself. COPY takes the rows as they are, in
PostgreSQL's binary format (half the work of the text format, for psycopg and for the server:
numbers and times are not written out as text, documents not escaped). The primary keys are
drawn from the table's sequence first, so the objects come back with them, as they do from
`bulk_create`. Other databases, small batches, and tables with a column type outside
`_BINARY_TYPES` use `bulk_create`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)

# Column type -> the Python type psycopg writes in its binary form as it is; a value of any
# other type goes through the field's own conversion first (see _adapter).
_BINARY_TYPES: Final[Mapping[str, type | None]] = {
    "bigint": int,
    "integer": int,
    "smallint": int,
    "varchar": str,
    "text": str,
    "boolean": bool,
    "uuid": uuid.UUID,
    "timestamp with time zone": None,
    "jsonb": None,
}
_MISSING: Final = object()
COPY_FROM_ROWS: Final = 200
"""Below this many rows, bulk_create is as quick and simpler to read in a query log."""


def insert_all(objects: Sequence[M]) -> list[M]:
    """INSERT `objects` (new, all of one model, no primary key yet) and give them their keys."""
    rows = list(objects)
    if not rows:
        return rows
    model = type(rows[0])
    if not _by_copy(model, len(rows)):
        return model._default_manager.bulk_create(rows, batch_size=1000)
    keys = _copy(model, [vars(row) for row in rows])
    for row, key in zip(rows, keys, strict=True):
        row.pk = key
        row._state.adding = False
        row._state.db = connection.alias
    return rows


def insert_values(model: type[models.Model], rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT new rows of `model`, each given as attribute values as `new_object` takes them,
    for when the objects are not needed afterwards (audit events, for instance)."""
    if not rows:
        return
    if not _by_copy(model, len(rows)):
        model._default_manager.bulk_create(
            [new_object(model, row) for row in rows], batch_size=1000
        )
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    complete = []
    # The rows of one batch almost always name the same attributes: worked out once for them.
    named, missing = None, []
    for row in rows:
        if named is None or row.keys() != named:
            named = row.keys()
            missing = [field for field in fields if field.attname not in row]
        complete.append(
            {**row, **{field.attname: field.get_default() for field in missing}} if missing else row
        )
    _copy(model, complete)


def _by_copy(model: type[models.Model], count: int) -> bool:
    return (
        connection.vendor == "postgresql"
        and count >= COPY_FROM_ROWS
        and all(_column_type(field) in _BINARY_TYPES for field in model._meta.concrete_fields)
    )


def _column_type(field: models.Field[Any, Any]) -> str:
    """The column's type without its modifiers: `varchar(12)` is a varchar."""
    return (field.db_type(connection) or "").partition("(")[0]


def _copy(model: type[models.Model], rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """COPY `rows` (attribute name -> value, every concrete field but the key) into `model`'s
    table under keys drawn from its sequence; returns the keys."""
    meta = model._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(column) for column in [meta.pk.column, *(field.column for field in fields)]
    )
    # wrap_database_errors: a unique key broken inside COPY raises Django's IntegrityError, as
    # bulk_create would.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.execute(
            "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
            [_sequence(cursor, meta.db_table, meta.pk.column), len(rows)],
        )
        keys = [key for (key,) in cursor.fetchall()]
        prepared = [
            (field.attname, _BINARY_TYPES[_column_type(field)], _adapter(field)) for field in fields
        ]
        with cursor.cursor.copy(
            f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types([_column_type(meta.pk), *(_column_type(field) for field in fields)])
            for key, values in zip(keys, rows, strict=True):
                row = [key]
                for name, exact, adapt in prepared:
                    value = values[name]
                    # A loop rather than a call per value: it runs for every cell of the batch.
                    if value is not None and type(value) is not exact:
                        value = adapt(value)
                    row.append(value)
                copy.write_row(row)
    return keys


_sequences: dict[tuple[str, str], str] = {}


def _sequence(cursor: Any, table: str, column: str) -> str:
    """The sequence of `table`'s key, looked up once per process: inside the key query,
    pg_get_serial_sequence would run once for every row (several times the cost of nextval)."""
    name = _sequences.get((table, column))
    if name is None:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
        name = _sequences[(table, column)] = cursor.fetchone()[0]
    return name


def new_object(model: type[M], values: Mapping[str, Any]) -> M:
    """An unsaved `model` from attribute values (`site_id`, not `site`); fields left out take
    their defaults.

    Built as unpickling builds an instance (its attributes set directly, then a fresh state),
    not through `Model.__init__`, whose descriptors and signals cost four times as much: that
    counts for the thousands of objects of one batch. The result is the same, but for the
    pre_init and post_init signals, which nothing here listens to.
    """
    instance = model.__new__(model)
    attributes = instance.__dict__
    for field in model._meta.concrete_fields:
        value = values.get(field.attname, _MISSING)
        attributes[field.attname] = field.get_default() if value is _MISSING else value
    instance._state = models.base.ModelState()
    return instance


def _adapter(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    """How a value of `field` that is not None nor of its column's Python type becomes one
    psycopg writes in binary, as Django would have converted it.

    `get_db_prep_save` costs more per value than COPY itself, so the common values of times
    and documents are handed to psycopg directly; anything else goes through Django.
    """

    def through_django(value: Any) -> Any:
        return field.get_db_prep_save(value, connection)

    kind = field.get_internal_type()
    if kind == "DateTimeField":
        # Django hands an aware datetime to psycopg unchanged; a naive one it warns about and
        # makes aware first, so that stays with Django.
        def adapt_datetime(value: Any) -> Any:
            if type(value) is datetime and value.tzinfo is not None:
                return value
            return through_django(value)

        return adapt_datetime
    if kind == "JSONField":
        from django.db.backends.postgresql.operations import (  # type: ignore[attr-defined]
            get_json_dumps,
        )
        from psycopg.types.json import Jsonb

        # The dumps Django's JSONField would use, so the stored documents are the same.
        dumps = get_json_dumps(getattr(field, "encoder", None))

        def adapt_json(value: Any) -> Any:
            if type(value) is dict or type(value) is list:
                return Jsonb(value, dumps=dumps)
            return through_django(value)

        return adapt_json
    return through_django
