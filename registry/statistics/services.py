"""Computing statistics snapshots. The Celery task and the shell command both come through here."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction

from registry.audit.services import record_event
from registry.people.models import Site, User

from . import aggregates
from .beacon import BeaconCount, BeaconFilter, describe_filter
from .catalogue import form_catalogue
from .clinical import clinical_tables
from .jsonsql import JsonSql
from .models import StatsSnapshot

if TYPE_CHECKING:
    from registry.jobs.models import JobRun

Progress = Callable[[int, int], None]


@contextmanager
def statistics_transaction() -> Iterator[None]:
    """Where the statistics queries run: on PostgreSQL one repeatable-read transaction (unless
    the caller already holds one), so that every figure describes the same data cut, with JIT
    compilation off."""
    postgres = connection.vendor == "postgresql"
    consistent = postgres and not connection.in_atomic_block
    with transaction.atomic() if consistent else nullcontext():
        if postgres:
            with connection.cursor() as cursor:
                if consistent:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                # Each query is one pass with dozens of JSON expressions: compiling them costs
                # more than it saves (seconds per query at a million submissions).
                cursor.execute("SET LOCAL jit = off")
        yield


def compute_statistics(progress: Progress | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(results, data cut) of the registry as it is now: the tables of every form
    (aggregates.py), then the clinical tables forms/statistics.yaml declares (clinical.py)."""
    sql = JsonSql()
    catalogue = form_catalogue()
    sites = list(Site.objects.order_by("code").values_list("pk", "code"))
    steps = 3 + len(catalogue)
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, steps)

    results: dict[str, Any] = {"patients_by_site": aggregates.patients_by_site(sites)}
    results["submissions"] = aggregates.submissions_by_site(catalogue, sites)
    step()
    results["completeness"] = aggregates.completeness(sql, catalogue, sites)
    step()
    results["fields"] = []
    for info in catalogue.values():
        results["fields"].append(aggregates.field_statistics(sql, info))
        step()
    results["clinical"] = clinical_tables(sql, catalogue)
    step()
    return results, aggregates.data_cut(catalogue, sites)


def do_compute_statistics(actor: User | None, *, run: JobRun | None = None) -> StatsSnapshot:
    """Compute the registry's aggregate statistics and store them as a snapshot.

    On PostgreSQL the queries share one repeatable-read transaction, so every figure of a
    snapshot describes the same data cut. Computing again for the same job run (a retried task)
    replaces that run's snapshot rather than adding a second one.
    """
    from registry.jobs.services import report_progress

    def progress(done: int, total: int) -> None:
        if run is not None:
            report_progress(run, done, total)

    with statistics_transaction():
        results, data_cut = compute_statistics(progress)
    with transaction.atomic():
        snapshot = None
        if run is not None:
            snapshot = StatsSnapshot.objects.filter(job_run=run).first()
        if snapshot is None:
            snapshot = StatsSnapshot(job_run=run)
        snapshot.results, snapshot.data_cut = results, data_cut
        snapshot.save()
        record_event(
            actor,
            "statistics.compute",
            snapshot,
            context={
                "patients": data_cut["patients"],
                "submissions": data_cut["submissions"],
                "job_run": run.pk if run is not None else None,
            },
        )
    return snapshot


def statistics_run(run: JobRun) -> dict[str, Any]:
    """What a statistics job run does (registered with jobs in apps.py): its counts."""
    snapshot = do_compute_statistics(run.requested_by, run=run)
    return {
        "snapshot": snapshot.pk,
        "patients": snapshot.data_cut["patients"],
        "submissions": snapshot.data_cut["submissions"],
    }


def do_record_beacon_query(
    actor: User,
    filters: Sequence[BeaconFilter],
    *,
    requested: str,
    returned: str,
    answer: BeaconCount,
) -> None:
    """Audit one answer of the Beacon: what was asked, and what was told."""
    record_event(
        actor,
        "beacon.query",
        None,
        context={
            "via": "beacon",
            "filters": [describe_filter(f) for f in filters],
            "requested": requested,
            "returned": returned,
            "exists": answer.exists,
            "count": answer.matched,
            "suppressed": answer.suppressed,
        },
    )
