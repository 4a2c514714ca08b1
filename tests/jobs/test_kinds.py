"""The work of each kind of run is registered by the app that owns it, so jobs imports none."""

import pytest

from registry.jobs.kinds import register_work, work_for
from registry.jobs.services import STARTABLE_KINDS
from registry.quality.services import quality_run
from registry.statistics.services import statistics_run


def test_every_kind_a_curator_may_start_has_its_work_registered():
    assert {kind: work_for(kind) for kind in STARTABLE_KINDS} == {
        "statistics": statistics_run,
        "quality": quality_run,
    }


def test_a_kind_without_work_is_refused_by_name():
    with pytest.raises(LookupError, match="no work is registered for export runs"):
        work_for("export")


def test_a_second_work_for_one_kind_is_refused():
    with pytest.raises(ValueError, match="the work of statistics runs is registered twice"):
        register_work("statistics", lambda run: {})
    register_work("statistics", statistics_run)  # the same again is harmless
    assert work_for("statistics") is statistics_run
