"""Writers: rows or items in, text chunks of a few hundred kilobytes at most out, for a
StreamingHttpResponse or a file. They know nothing of the registry: CSV, a JSON array, NDJSON and
REDCap's XML."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Final

from registry.csvsafe import SafeWriter

from .layout import typed_text

ROWS_PER_CHUNK: Final = 500


def csv_chunks(
    header: Sequence[str], rows: Iterable[Sequence[str]], delimiter: str = ","
) -> Iterator[str]:
    buffer = io.StringIO()
    # Every cell passes the formula rule (registry/csvsafe.py); JSON keeps values as stored.
    writer = SafeWriter(csv.writer(buffer, delimiter=delimiter, lineterminator="\n"))
    writer.writerow(header)
    batch: list[Sequence[str]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= ROWS_PER_CHUNK:
            writer.writerows(batch)
            batch.clear()
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    writer.writerows(batch)
    yield buffer.getvalue()


def json_chunks(items: Iterable[Any]) -> Iterator[str]:
    """A JSON array, written as it goes."""
    pieces = ["["]
    separator = ""
    for item in items:
        pieces.append(separator + json.dumps(item, ensure_ascii=False))
        separator = ",\n"
        if len(pieces) >= ROWS_PER_CHUNK:
            yield "".join(pieces)
            pieces.clear()
    pieces.append("]\n")
    yield "".join(pieces)


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value: Any) -> str:
    """A value as REDCap's XML holds it: in CDATA, with what XML 1.0 cannot hold dropped."""
    text = _XML_ILLEGAL.sub("", value if isinstance(value, str) else typed_text(value))
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def xml_chunks(items: Iterable[Mapping[str, Any]], root: str = "records") -> Iterator[str]:
    """REDCap's XML: `<records><item><name><![CDATA[value]]></name>...</item></records>`.
    The keys are column names (letters, digits and underscores), so they are element names."""
    pieces = [f'<?xml version="1.0" encoding="UTF-8" ?>\n<{root}>\n']
    for item in items:
        pieces.append(
            "<item>"
            + "".join(f"<{key}>{xml_text(value)}</{key}>" for key, value in item.items())
            + "</item>\n"
        )
        if len(pieces) >= ROWS_PER_CHUNK:
            yield "".join(pieces)
            pieces.clear()
    pieces.append(f"</{root}>\n")
    yield "".join(pieces)


def ndjson_chunks(items: Iterable[Any]) -> Iterator[str]:
    pieces = []
    for item in items:
        pieces.append(json.dumps(item, ensure_ascii=False) + "\n")
        if len(pieces) >= ROWS_PER_CHUNK:
            yield "".join(pieces)
            pieces.clear()
    yield "".join(pieces)
