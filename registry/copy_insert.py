"""Inserting many new rows of one model at once, by COPY on PostgreSQL.

`bulk_create` on PostgreSQL sends each column as one array parameter, and psycopg builds the
text of an array of JSON documents in Python: for the submissions and audit events of a large
import that costs several times the INSERT itself. COPY takes the rows as they are. The primary
keys are drawn from the table's sequence first, so the objects come back with them, as they do
from `bulk_create`. Other databases, and small batches, use `bulk_create`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)

_AS_THEY_ARE: Final = frozenset({
    "ForeignKey", "BigIntegerField", "IntegerField", "PositiveIntegerField", "SmallIntegerField",
    "PositiveSmallIntegerField", "BooleanField", "CharField", "TextField", "UUIDField",
})
COPY_FROM_ROWS: Final = 200
"""Below this many rows, bulk_create is as quick and simpler to read in a query log."""


def insert_all(objects: Sequence[M]) -> list[M]:
    """INSERT `objects` (new, all of one model, no primary key yet) and give them their keys."""
    rows = list(objects)
    if not rows:
        return rows
    model = type(rows[0])
    if connection.vendor != "postgresql" or len(rows) < COPY_FROM_ROWS:
        return model._default_manager.bulk_create(rows, batch_size=1000)
    meta = model._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in
                        [meta.pk.column, *(field.column for field in fields)])
    # wrap_database_errors: a unique key broken inside COPY raises Django's IntegrityError, as
    # bulk_create would.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) "
                       "FROM generate_series(1, %s)", [meta.db_table, meta.pk.column, len(rows)])
        for row, (key,) in zip(rows, cursor.fetchall(), strict=True):
            row.pk = key
        # Values psycopg takes as they are skip get_db_prep_save, which costs more than COPY.
        prepared = [(field.attname, None if field.get_internal_type() in _AS_THEY_ARE
                     else field) for field in fields]
        with cursor.cursor.copy(  # type: ignore[attr-defined]
                f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                values = vars(row)
                copy.write_row([row.pk, *(
                    values[name] if field is None
                    else field.get_db_prep_save(values[name], connection)
                    for name, field in prepared)])
    for row in rows:
        row._state.adding = False
        row._state.db = connection.alias
    return rows
