"""The shapes of export the registry offers: each a name, a media type, a file extension and
the function that makes it (an exporter of `export_base.py` and a writer of `writers.py`).

`SHAPES` are the research exports of the REST API (`/api/v1/exports/<shape>/`) and of export
jobs; `REDCAP_SHAPES` the REDCap API's other layouts. A new format is a module of its own with
one function of the `MakeExport` type, and one `Shape(...)` line below (docs/exports.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Final

from registry.people.models import User

from .export_base import BaseExport
from .export_spec import ExportSpec
from .flat_export import FlatExport
from .layout import REPEAT_INSTANCE, REPEAT_INSTRUMENT
from .pgcopy import can_copy, copy_chunks
from .record_export import LONG_HEADER, RecordExport, long_rows
from .release import Release
from .writers import csv_chunks, json_chunks, ndjson_chunks, xml_chunks

_Made = tuple[BaseExport, Iterator[str]]

MakeExport = Callable[[User, ExportSpec, Release | None], _Made]
"""What a shape does: for a person, a request and the person's release (None for those who
receive the registry's pseudonyms), the export (for its manifest, its rows written and its
estimate) and its text in chunks, produced as they are read."""


@dataclass(frozen=True)
class Shape:
    """One export format, as `/api/v1/exports/<name>/` and export jobs offer it."""

    name: str
    media_type: str
    extension: str
    """Of an export job's file."""
    chunks: MakeExport


def _flat_csv(user: User, spec: ExportSpec, release: Release | None) -> _Made:
    export = FlatExport(user, spec, release=release)
    if can_copy(export):
        return export, copy_chunks(export)
    return export, csv_chunks(export.header(), export.rows(), spec.csv_delimiter)


def _flat_json(user: User, spec: ExportSpec, release: Release | None) -> _Made:
    export = FlatExport(user, spec, release=release)
    return export, json_chunks(export.dicts())


def _flat_xml(user: User, spec: ExportSpec, release: Release | None) -> _Made:
    export = FlatExport(user, spec, release=release)
    # Element names are the columns' names, whatever rawOrLabelHeaders says (as REDCap's).
    return export, xml_chunks(dict(zip(export.columns, row, strict=True)) for row in export.rows())


def _eav(writer: str) -> MakeExport:
    def chunks(user: User, spec: ExportSpec, release: Release | None) -> _Made:
        # A form never filled has no values, so no status either.
        export = FlatExport(user, replace(spec, blank_for_gray=True), release=release)
        items = export.eav_items()
        if writer == "json":
            return export, json_chunks(items)
        if writer == "xml":
            return export, xml_chunks(items)
        keys = [
            "record",
            *((REPEAT_INSTRUMENT, REPEAT_INSTANCE) if export.layout.any_repeating else ()),
            "field_name",
            "value",
        ]
        return export, csv_chunks(
            keys, ([str(item[key]) for key in keys] for item in items), spec.csv_delimiter
        )

    return chunks


def _long_csv(user: User, spec: ExportSpec, release: Release | None) -> _Made:
    export = RecordExport(user, spec, release=release)
    return export, csv_chunks(LONG_HEADER, long_rows(export.records()))


def _json(user: User, spec: ExportSpec, release: Release | None) -> _Made:
    export = RecordExport(user, spec, release=release)
    return export, json_chunks(record.as_json() for record in export.records())


def _ndjson(user: User, spec: ExportSpec, release: Release | None) -> _Made:
    export = RecordExport(user, spec, release=release)
    return export, ndjson_chunks(record.as_json() for record in export.records())


SHAPES: Final[Mapping[str, Shape]] = {
    shape.name: shape
    for shape in (
        Shape("flat-csv", "text/csv", "csv", _flat_csv),
        Shape("flat-json", "application/json", "json", _flat_json),
        Shape("long-csv", "text/csv", "csv", _long_csv),
        Shape("json", "application/json", "json", _json),
        Shape("ndjson", "application/x-ndjson", "ndjson", _ndjson),
    )
}

REDCAP_SHAPES: Final[Mapping[str, Shape]] = {
    shape.name: shape
    for shape in (
        Shape("flat-xml", "text/xml", "xml", _flat_xml),
        Shape("eav-json", "application/json", "json", _eav("json")),
        Shape("eav-csv", "text/csv", "csv", _eav("csv")),
        Shape("eav-xml", "text/xml", "xml", _eav("xml")),
    )
}
"""The REDCap API's other layouts (format=xml, type=eav); not offered by the REST API."""
