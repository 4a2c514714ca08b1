"""The linear-growth check itself: it passes linear work and refuses quadratic work."""

import pytest

from tests.linear import assert_linear


def test_linear_work_passes():
    assert_linear(lambda n: sorted(range(n)), 20_000, rounds=3)


def test_quadratic_work_is_refused():
    with pytest.raises(AssertionError, match="twice the input took"):
        assert_linear(lambda n: [i for i in range(n) for _ in range(n)], 1_500, rounds=3)
