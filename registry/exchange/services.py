"""Starting exports: each one is audited before the first row leaves the registry."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http.response import HttpResponseBase

from registry.audit.services import record_event
from registry.jobs.models import JobKind, JobRun
from registry.jobs.services import do_request_job, report_progress
from registry.people.models import User

from .anonymity import Manifest
from .export_base import check_export_request
from .export_spec import ExportError, ExportSpec
from .release import job_release_id, release_for
from .shapes import REDCAP_SHAPES, SHAPES


def export_dir() -> Path:
    """Where export jobs write their files (`REGISTRY_EXPORT_DIR`, default var/exports/)."""
    return Path(getattr(settings, "REGISTRY_EXPORT_DIR", settings.VAR_DIR / "exports"))


def _shape(name: str) -> Any:
    try:
        return SHAPES[name]
    except KeyError:
        raise ExportError(
            "shape", f"unknown export {name!r}; choose one of: {', '.join(SHAPES)}."
        ) from None


@dataclass(frozen=True)
class StartedExport:
    media_type: str
    chunks: Iterator[str]
    manifest: Manifest | None
    """A researcher's release: its id and what k-anonymity generalised (None for others)."""


def _release_context(manifest: Manifest | None) -> dict[str, Any]:
    # The release id lets the registry map the release's pseudonyms back; the key it is
    # derived with never leaves the settings.
    return {"release": manifest.as_json()} if manifest is not None else {}


RELEASE_HEADER = "Registry-Release"
MANIFEST_HEADER = "Registry-Release-Manifest"


def set_release_headers(response: HttpResponseBase, manifest: Manifest | None) -> None:
    """A streamed release says what it is before its first row: its id, and its manifest as
    one line of JSON (docs/exports.md)."""
    if manifest is not None:
        response[RELEASE_HEADER] = manifest.release
        response[MANIFEST_HEADER] = json.dumps(manifest.as_json(), separators=(",", ":"))


def do_start_export(
    actor: User, shape: str, spec: ExportSpec, *, via: str, release_id: str | None = None
) -> StartedExport:
    """Check an export request, audit it, and return its media type and text in chunks.

    A researcher's export is a release: a new one, or the one named (a REDCap API token's).
    Raises ExportError (naming the parameter) before anything is audited or read.
    """
    chosen = REDCAP_SHAPES[shape] if via == "redcap" and shape in REDCAP_SHAPES else _shape(shape)
    export, chunks = chosen.chunks(actor, spec, release_for(actor, release_id))
    record_event(
        actor,
        "export",
        None,
        context={
            "via": via,
            "shape": shape,
            **spec.as_parameters(),
            "columns": len(getattr(export, "columns", ())) or None,
            **_release_context(export.manifest),
        },
    )
    return StartedExport(chosen.media_type, chunks, export.manifest)


def do_request_export_job(actor: User, shape: str, spec: ExportSpec) -> JobRun:
    """Queue an export that writes a file to download later (for exports too big to wait for).

    The request is checked now, so a bad one fails at once rather than in the worker.
    """
    _shape(shape)
    check_export_request(actor, spec)
    from .tasks import run_export

    return do_request_job(
        actor, JobKind.EXPORT, run_export, {"shape": shape, "spec": spec.as_parameters()}
    )


def write_export_file(run: JobRun) -> Mapping[str, Any]:
    """The work of an export job: write the file, report progress, audit the export."""
    actor = run.requested_by
    if actor is None:
        raise ExportError("requested_by", "an export job needs the person it is for.")
    shape = _shape(run.parameters["shape"])
    spec = ExportSpec.from_parameters(run.parameters["spec"])
    # One job, one release: its pseudonyms are its own, its manifest is in the run's counts.
    export, chunks = shape.chunks(actor, spec, release_for(actor, job_release_id(run.pk)))
    total = export.row_estimate()
    directory = export_dir()
    directory.mkdir(parents=True, exist_ok=True)
    # The random part keeps one person's file name from being guessed from another's.
    path = directory / f"export-{run.pk}-{secrets.token_hex(8)}.{shape.extension}"
    # Closed however the loop ends, so that a COPY's transaction ends with it rather than
    # whenever the generator is collected. Progress is only noted here: the run's heartbeat
    # writes it on another connection, as this one is busy with the COPY.
    with path.open("w", encoding="utf-8", newline="") as handle, closing(chunks) as rows:
        for chunk in rows:
            handle.write(chunk)
            report_progress(run, export.rows_written, max(total, export.rows_written))
    report_progress(run, export.rows_written, export.rows_written)
    run.result_file = str(path)
    record_event(
        actor,
        "export",
        run,
        context={
            "via": "job",
            "shape": shape.name,
            **spec.as_parameters(),
            "rows": export.rows_written,
            **_release_context(export.manifest),
        },
    )
    return {"rows": export.rows_written, **_release_context(export.manifest)}
