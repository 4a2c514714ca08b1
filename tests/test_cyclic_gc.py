import gc

import pytest

from registry.cyclic_gc import cyclic_gc_paused


@pytest.fixture(autouse=True)
def _collector_enabled():
    gc.enable()
    yield
    gc.enable()


def test_the_collector_is_paused_inside_and_resumed_after():
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_nested_pause_leaves_resuming_to_the_outer_one():
    with cyclic_gc_paused():
        with cyclic_gc_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_is_resumed_when_the_block_fails():
    with pytest.raises(RuntimeError), cyclic_gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_disabled_before_stays_disabled():
    gc.disable()
    with cyclic_gc_paused():
        pass
    assert not gc.isenabled()


def test_as_a_decorator_it_pauses_each_call():
    @cyclic_gc_paused()
    def during() -> bool:
        return gc.isenabled()

    assert during() is False
    assert during() is False
    assert gc.isenabled()
