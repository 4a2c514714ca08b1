"""Reads of statistics snapshots, and the figures each person may see.

Statistics are aggregates, so everyone signed in may see them; curators and admins see them as
computed, everyone else (researchers, coordinators) with small cells suppressed
(registry/statistics/suppression.py, DESIGN.md privacy rule 3).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from registry.people.access import can_curate
from registry.people.models import User

from .models import StatsSnapshot
from .suppression import suppress_results


def can_see_statistics(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def sees_unsuppressed(user: User) -> bool:
    return can_curate(user)


def visible_snapshots(user: User) -> QuerySet[StatsSnapshot]:
    if not can_see_statistics(user):
        return StatsSnapshot.objects.none()
    return StatsSnapshot.objects.order_by("-created_at", "-pk")


def latest_snapshot(user: User) -> StatsSnapshot | None:
    return visible_snapshots(user).first()


def snapshot_for(user: User, pk: int) -> StatsSnapshot:
    return get_object_or_404(visible_snapshots(user), pk=pk)


def suppression_threshold() -> int:
    return int(settings.STATS_SUPPRESSION_THRESHOLD)


def results_for(
    user: User, snapshot: StatsSnapshot, *, as_researcher: bool = False
) -> dict[str, Any]:
    """The snapshot's figures as `user` may see them (suppressed unless curator or admin;
    `as_researcher` lets a curator check what researchers see)."""
    if sees_unsuppressed(user) and not as_researcher:
        return {**snapshot.results, "suppression": None}
    return suppress_results(snapshot.results, suppression_threshold())


def data_cut_for(
    user: User, snapshot: StatsSnapshot, *, as_researcher: bool = False
) -> dict[str, Any]:
    """The data cut; its patient and submission counts follow the same suppression rule."""
    cut = dict(snapshot.data_cut)
    if sees_unsuppressed(user) and not as_researcher:
        return cut
    threshold = suppression_threshold()
    for key in ("patients", "submissions"):
        if 0 < (cut.get(key) or 0) < threshold:
            cut[key] = None
    forms = []
    for form in cut.get("forms", []):
        versions = [
            {
                **version,
                "submissions": None
                if 0 < version["submissions"] < threshold
                else version["submissions"],
            }
            for version in form["versions"]
        ]
        forms.append({**form, "versions": versions})
    cut["forms"] = forms
    return cut
