"""Running the data-quality checks and looking after their findings.

`do_run_quality_checks` checks the registry (everything, or only the patients changed since the
last successful run) and keeps QualityIssue rows in step with what it found:

- a finding seen before is the same issue (same fingerprint): it is not duplicated, its
  `last_seen` moves on, and if it had been resolved it is open again;
- an open issue of a checked patient that was not found again is resolved;
- an issue a curator accepted as correct stays accepted, seen or not.

`do_accept_quality_issue` is the curator's "this is correct" (with a reason).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from registry.audit.services import record_event
from registry.cyclic_gc import cyclic_gc_paused
from registry.forked import can_fork, map_forked
from registry.patients.models import Patient
from registry.people.access import can_curate
from registry.people.models import User
from registry.statistics.catalogue import FormInfo, form_catalogue
from registry.submissions.models import Submission

from .checks import (
    NEAR_DUPLICATE_LISTED,
    Baselines,
    Finding,
    PatientRow,
    QualityChecker,
    Signature,
    SubmissionRow,
    near_duplicate_findings,
    near_duplicate_matches,
    near_duplicate_signatures,
    numeric_baselines,
)
from .models import IssueStatus, QualityIssue
from .rules import NEAR_DUPLICATE, CrossFormRule, RulesFile, load_rules_file

if TYPE_CHECKING:
    from registry.jobs.models import JobRun

PATIENT_BATCH = 1000
INCREMENTAL_LIMIT = 20000
WRITE_BATCH = 2000
Progress = Callable[[int, int], None]
# (lowest patient id, first id past the range); None: no bound on that side
PatientRange = tuple[int | None, int | None]


def quality_run(run: JobRun) -> dict[str, Any]:
    """What a quality job run does (registered with jobs in apps.py): its counts."""
    return do_run_quality_checks(run.requested_by, full=bool(run.parameters.get("full")), run=run)


def rules_file(catalogue: dict[str, FormInfo]) -> RulesFile:
    """forms/quality_rules.yaml, checked against the published forms."""
    return load_rules_file({name: info.harmonisation for name, info in catalogue.items()})


def _last_successful_run(exclude: JobRun | None) -> JobRun | None:
    from registry.jobs.models import JobKind, JobRun, JobStatus

    runs = JobRun.objects.filter(kind=JobKind.QUALITY, status=JobStatus.SUCCEEDED)
    if exclude is not None:
        runs = runs.exclude(pk=exclude.pk)
    return runs.order_by("-started_at").first()


def changed_patients(since: dt.datetime) -> set[int]:
    """Patients with a submission saved, or a record created or changed, since `since`."""
    changed = set(
        Submission.objects.filter(updated_at__gte=since)
        .values_list("patient_id", flat=True)
        .distinct()
    )
    changed |= set(Patient.objects.filter(created_at__gte=since).values_list("pk", flat=True))
    return changed


def do_run_quality_checks(
    actor: User | None,
    *,
    full: bool = False,
    run: JobRun | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Check the registry and bring its quality issues up to date; returns the run's counts.

    Incremental (the default) checks only the patients changed since the last successful run,
    and is a full run when there is none. The 3-SD rule of an incremental run compares with the
    means and SDs the last full run measured.
    """
    from registry.jobs.services import report_progress

    started = timezone.now()
    catalogue = form_catalogue()
    rules = rules_file(catalogue)
    previous = _last_successful_run(run)
    scope: set[int] | None = None
    if not full and previous is not None and previous.started_at is not None:
        scope = changed_patients(previous.started_at)
        if len(scope) > INCREMENTAL_LIMIT:
            scope = None  # so much changed that checking everything is simpler and as fast
    baselines: Baselines | None = None
    if scope is not None and previous is not None:
        baselines = previous.state.get("baselines")
    if baselines is None:
        baselines = numeric_baselines(catalogue)

    checker = QualityChecker(
        catalogue,
        rules.custom,
        baselines,
        today=today,
        outlier_sd_skip=rules.outlier_sd_skip,
        cross_form=rules.cross_form,
    )
    total = len(scope) if scope is not None else Patient.objects.count()
    processes = 1
    if scope is None and total >= settings.QUALITY_PARALLEL_FROM_PATIENTS and can_fork():
        processes = max(1, settings.QUALITY_PROCESSES)
    ranges = _id_ranges(processes)
    # Patients each process has checked, in memory the forked ones share: the first process
    # reports the sum as the run's progress.
    done = multiprocessing.RawArray("q", len(ranges))

    def check(number: int) -> tuple[list[Finding], int, int]:
        found: list[Finding] = []
        patients = submissions = 0
        for batch in _patient_batches(scope, ranges[number]):
            batch_findings, checked = checker.check_batch(
                batch, _submissions_of(batch, ranged=scope is None)
            )
            found += batch_findings
            patients += len(batch)
            submissions += checked
            done[number] += len(batch)
            if number == 0 and run is not None:
                report_progress(run, sum(done), total)
        return found, patients, submissions

    findings: list[Finding] = []
    patients_checked = submissions_checked = 0
    with cyclic_gc_paused():
        for found, patients, submissions in map_forked(check, range(len(ranges))):
            findings += found
            patients_checked += patients
            submissions_checked += submissions

    near_duplicate = rules.cross_form.get(NEAR_DUPLICATE)
    near_scope, signatures, matches = _near_duplicate_scope(catalogue, near_duplicate, scope)
    findings += near_duplicate_findings(
        near_duplicate, signatures, matches, signatures if near_scope is None else near_scope
    )

    counts = do_store_findings(actor, findings, scope=scope, near_scope=near_scope, started=started)
    counts.update(
        {
            "mode": "incremental" if scope is not None else "full",
            "patients_checked": patients_checked,
            "submissions_checked": submissions_checked,
            "custom_rules": len(rules.custom),
        }
    )
    if run is not None:
        # The means and SDs of the last full run travel from run to run for the incremental
        # runs that follow.
        run.state = {"baselines": baselines}
        run.save(update_fields=["state"])
    return counts


def _id_ranges(parts: int) -> list[PatientRange]:
    """The patient ids cut into `parts` ranges of about as many patients each."""
    ids = Patient.objects.order_by("pk").values_list("pk", flat=True)
    count = ids.count() if parts > 1 else 0
    if count < parts:  # one process, or fewer patients than processes
        return [(None, None)]
    cuts = [ids[count * number // parts] for number in range(1, parts)]
    lows: list[int | None] = [None, *cuts]
    highs: list[int | None] = [*cuts, None]
    return list(zip(lows, highs, strict=True))


def _patient_batches(
    scope: set[int] | None, bounds: PatientRange = (None, None)
) -> Iterator[dict[int, PatientRow]]:
    """Patients in batches, in id order (keyset pagination, no OFFSET); a full run's patients
    from `bounds`' low id (included) to its high id (excluded)."""
    columns = ("pk", "site_id", "sex", "year_of_birth", "pseudonym")
    if scope is not None:
        ordered = sorted(scope)
        for start in range(0, len(ordered), PATIENT_BATCH):
            ids = ordered[start : start + PATIENT_BATCH]
            rows = Patient.objects.filter(pk__in=ids).values_list(*columns)
            yield {row[0]: PatientRow(*row) for row in rows}
        return
    low, high = bounds
    patients = Patient.objects.order_by("pk")
    if high is not None:
        patients = patients.filter(pk__lt=high)
    last = low - 1 if low is not None else 0
    while True:
        rows = list(patients.filter(pk__gt=last).values_list(*columns)[:PATIENT_BATCH])
        if not rows:
            return
        last = rows[-1][0]
        yield {row[0]: PatientRow(*row) for row in rows}


def _submissions_of(batch: dict[int, PatientRow], *, ranged: bool) -> Iterator[SubmissionRow]:
    """A batch's submissions, with the JSON text as stored rather than the decoded document:
    identical documents are checked once (see QualityChecker), and only the others decoded.
    Plain SQL, because at millions of rows the ORM's per-row work is most of the cost."""
    raw = "s.data::text" if connection.vendor == "postgresql" else "CAST(s.data AS TEXT)"
    if ranged:
        # Patients come in id order, so a range scan finds a batch's submissions by index.
        where, params = "s.patient_id BETWEEN %s AND %s", [min(batch), max(batch)]
    else:
        ids = list(batch)
        where, params = f"s.patient_id IN ({', '.join(['%s'] * len(ids))})", ids
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.id, s.patient_id, s.form_id, s.form_version_id, s.instance, "
            f"{raw} FROM {Submission._meta.db_table} s WHERE {where}",
            params,
        )
        rows = cursor.fetchall()
    for pk, patient_id, form_id, version_id, instance, text in rows:
        if patient_id in batch:
            yield SubmissionRow(pk, patient_id, form_id, version_id, instance, None, text)


def _near_duplicate_scope(
    catalogue: dict[str, FormInfo], rule: CrossFormRule | None, scope: set[int] | None
) -> tuple[set[int] | None, dict[int, Signature], dict[int, list[Signature]]]:
    """Whose near-duplicate findings an incremental run recomputes, the signatures their
    matches are found among, and the matches.

    A patient's finding changes only when a changed patient joins or leaves its matches, so
    the run recomputes the changed patients, those who match one of them now, and those whose
    open finding names one of them; a candidate whose finding names as many patients as a
    finding shows is recomputed too, as the changed patient may be one it leaves out.

    A patient's matches have the very same lesions, so they are among the candidates of any
    patient sharing one of those lesions: the candidates of the changed patients already hold
    the matches of every candidate, and only the named patients need a look-up of their own.
    """
    if scope is None:
        signatures = near_duplicate_signatures(catalogue, rule)
        return None, signatures, near_duplicate_matches(signatures)
    signatures = near_duplicate_signatures(catalogue, rule, scope)
    candidates = set(signatures) | scope
    named_by, listing_all = _open_near_duplicates_naming(scope)
    others = named_by - candidates
    if others:
        signatures.update(near_duplicate_signatures(catalogue, rule, others))
    matches = near_duplicate_matches(signatures)
    matched = {other.patient_id for pk in scope for other in matches.get(pk, ())}
    return scope | matched | named_by | (listing_all & candidates), signatures, matches


def _open_near_duplicates_naming(scope: set[int]) -> tuple[set[int], set[int]]:
    """The patients whose open (or accepted) near-duplicate finding names one of `scope`, and
    those whose finding names as many patients as a finding shows.

    The details are searched in the database: reading and decoding every open finding's JSON
    was most of an incremental run's time in a large registry."""
    if connection.vendor == "postgresql":
        matches = "jsonb_array_elements(q.details -> 'matches') m"
        named = "(m.value ->> 'patient_id')::bigint"
        listed = "jsonb_array_length(q.details -> 'matches')"
    else:
        matches = "json_each(q.details, '$.matches') m"
        named = "json_extract(m.value, '$.patient_id')"
        listed = "json_array_length(q.details, '$.matches')"
    sql = (
        f"SELECT q.patient_id FROM {QualityIssue._meta.db_table} q "
        "WHERE q.rule = %s AND q.status <> %s AND "
    )
    params = [NEAR_DUPLICATE, str(IssueStatus.RESOLVED)]
    named_by: set[int] = set()
    with connection.cursor() as cursor:
        for chunk in _chunks(sorted(scope), 500):
            cursor.execute(
                sql + f"EXISTS (SELECT 1 FROM {matches} "
                f"WHERE {named} IN ({', '.join(['%s'] * len(chunk))}))",
                params + chunk,
            )
            named_by.update(row[0] for row in cursor.fetchall())
        cursor.execute(sql + f"{listed} >= %s", [*params, NEAR_DUPLICATE_LISTED])
        listing_all = {row[0] for row in cursor.fetchall()}
    return named_by, listing_all


@transaction.atomic
def do_store_findings(
    actor: User | None,
    findings: Sequence[Finding],
    *,
    scope: set[int] | None,
    near_scope: set[int] | None,
    started: dt.datetime,
) -> dict[str, Any]:
    """Turn a run's findings into issues: create, touch, reopen, and resolve the unseen."""
    now = timezone.now()
    by_fingerprint = {finding.fingerprint: finding for finding in findings}
    existing = _existing_issues(scope, near_scope, by_fingerprint)

    new: list[QualityIssue] = []
    touch: list[int] = []
    reopen: list[int] = []
    changed: list[QualityIssue] = []
    for fingerprint, finding in by_fingerprint.items():
        known = existing.get(fingerprint)
        if known is None:
            new.append(
                QualityIssue(
                    rule=finding.rule,
                    severity=finding.severity,
                    site_id=finding.site_id,
                    patient_id=finding.patient_id,
                    submission_id=finding.submission_id,
                    field=finding.field,
                    message=finding.message,
                    fingerprint=fingerprint,
                    first_seen=now,
                    last_seen=now,
                    details=finding.details,
                )
            )
            continue
        pk, status, message, severity, details = known
        if status == IssueStatus.RESOLVED:
            reopen.append(pk)
        else:
            touch.append(pk)
        if (message, severity, details) != (finding.message, finding.severity, finding.details):
            changed.append(
                QualityIssue(
                    pk=pk,
                    message=finding.message,
                    severity=finding.severity,
                    details=finding.details,
                )
            )

    QualityIssue.objects.bulk_create(new, batch_size=WRITE_BATCH)
    for ids in _chunks(touch, WRITE_BATCH):
        QualityIssue.objects.filter(pk__in=ids).update(last_seen=now)
    for ids in _chunks(reopen, WRITE_BATCH):
        QualityIssue.objects.filter(pk__in=ids).update(
            status=IssueStatus.OPEN, last_seen=now, resolved_at=None
        )
    QualityIssue.objects.bulk_update(
        changed, ["message", "severity", "details"], batch_size=WRITE_BATCH
    )

    unseen = QualityIssue.objects.filter(status=IssueStatus.OPEN, last_seen__lt=now)
    if scope is not None:
        in_scope = Q(patient_id__in=scope) & ~Q(rule=NEAR_DUPLICATE)
        in_scope |= Q(patient_id__in=near_scope or set(), rule=NEAR_DUPLICATE)
        unseen = unseen.filter(in_scope)
    resolved = unseen.update(status=IssueStatus.RESOLVED, resolved_at=now)

    by_rule = Counter(finding.rule for finding in by_fingerprint.values())
    counts = {
        "findings": len(by_fingerprint),
        "new": len(new),
        "reopened": len(reopen),
        "seen_again": len(touch),
        "resolved": resolved,
        "open": QualityIssue.objects.filter(status=IssueStatus.OPEN).count(),
        "by_rule": dict(sorted(by_rule.items())),
    }
    record_event(
        actor,
        "quality.run",
        None,
        context={
            "mode": "incremental" if scope is not None else "full",
            "patients_in_scope": len(scope) if scope is not None else None,
            "started": started.isoformat(),
            **{k: v for k, v in counts.items() if k != "by_rule"},
        },
    )
    return counts


def _existing_issues(
    scope: set[int] | None, near_scope: set[int] | None, findings: dict[str, Finding]
) -> dict[str, tuple[Any, ...]]:
    """(pk, status, message, severity, details) of the issues the findings may be, by
    fingerprint: plain rows, as a full run reads every issue there is."""
    fields = ("fingerprint", "pk", "status", "message", "severity", "details")
    if scope is None:
        return {row[0]: row[1:] for row in QualityIssue.objects.values_list(*fields)}
    found: dict[str, tuple[Any, ...]] = {}
    for chunk in _chunks(list(findings), 500):
        for row in QualityIssue.objects.filter(fingerprint__in=chunk).values_list(*fields):
            found[row[0]] = row[1:]
    return found


def _chunks(items: Sequence[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def can_accept_issues(user: User) -> bool:
    return can_curate(user)


def do_accept_quality_issue(actor: User, issue: QualityIssue, reason: str) -> QualityIssue:
    """A curator confirms that a finding is correct as it stands; later runs leave it accepted."""
    if not can_accept_issues(actor):
        raise PermissionDenied("Only curators may accept a quality issue as correct.")
    reason = " ".join((reason or "").split())
    if len(reason) < 5:
        raise ValidationError(
            {
                "reason": [
                    "Say why the value is correct (at least a few words), so that others can "
                    "follow."
                ]
            }
        )
    with transaction.atomic():
        before = {"status": issue.status, "accepted_reason": issue.accepted_reason}
        issue.status = IssueStatus.ACCEPTED
        issue.accepted_by, issue.accepted_reason = actor, reason
        issue.accepted_at = timezone.now()
        issue.save(update_fields=["status", "accepted_by", "accepted_reason", "accepted_at"])
        record_event(
            actor,
            "quality_issue.accept",
            issue,
            site=issue.site,
            changes={
                "status": [before["status"], issue.status],
                "accepted_reason": [before["accepted_reason"], reason],
            },
        )
    return issue


def do_reopen_quality_issue(actor: User, issue: QualityIssue) -> QualityIssue:
    """Undo an acceptance: the issue is open again until the next run decides."""
    if not can_accept_issues(actor):
        raise PermissionDenied("Only curators may reopen a quality issue.")
    with transaction.atomic():
        before = issue.status
        issue.status = IssueStatus.OPEN
        issue.save(update_fields=["status"])
        record_event(
            actor,
            "quality_issue.reopen",
            issue,
            site=issue.site,
            changes={"status": [before, issue.status]},
        )
    return issue


def do_resolve_quality_issue(actor: User, issue: QualityIssue) -> QualityIssue:
    """Mark a finding resolved after the data was corrected; the next run re-opens it if the
    problem is still there."""
    if not can_accept_issues(actor):
        raise PermissionDenied("Only curators may mark a quality issue resolved.")
    with transaction.atomic():
        before = issue.status
        issue.status, issue.resolved_at = IssueStatus.RESOLVED, timezone.now()
        issue.save(update_fields=["status", "resolved_at"])
        record_event(
            actor,
            "quality_issue.resolve",
            issue,
            site=issue.site,
            changes={"status": [before, issue.status]},
        )
    return issue
