"""Work split over forked processes: results in order, a child's failure raised in the parent."""

from __future__ import annotations

import os

import pytest
from django.db import connection, transaction

from registry.forked import ForkedWorkFailed, can_fork, map_forked


def test_every_part_is_done_in_order_and_the_others_in_other_processes():
    parent = os.getpid()

    results = map_forked(lambda part: (part * part, os.getpid()), [1, 2, 3])

    assert [square for square, _ in results] == [1, 4, 9]
    assert results[0][1] == parent
    assert len({pid for _, pid in results}) == 3


def test_a_failing_child_is_raised_with_its_traceback_after_the_others_ended():
    def work(part: int) -> int:
        if part == 2:
            raise ValueError("part two is bad")
        return part

    with pytest.raises(ForkedWorkFailed, match="ValueError: part two is bad"):
        map_forked(work, [1, 2, 3])


def test_a_child_that_dies_is_reported_not_waited_for_forever():
    def work(part: int) -> int:
        if part == 2:
            os._exit(3)
        return part

    with pytest.raises(ForkedWorkFailed, match="ended without a result"):
        map_forked(work, [1, 2])


def test_one_part_is_done_here():
    assert map_forked(lambda part: os.getpid(), ["only"]) == [os.getpid()]


@pytest.mark.django_db
def test_no_fork_inside_a_transaction_or_on_sqlite():
    with transaction.atomic():
        assert not can_fork()


@pytest.mark.django_db(transaction=True)
def test_forking_needs_postgresql_outside_a_transaction():
    assert can_fork() is (connection.vendor == "postgresql")
