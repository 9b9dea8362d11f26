from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from soketler.security.slowdown import Slowdown, place


def test_delays_double_up_to_the_maximum() -> None:
    slow = Slowdown(base=1.0, maximum=60.0)
    assert [slow.delay(n) for n in range(9)] == [0, 1, 2, 4, 8, 16, 32, 60, 60]
    assert slow.delay(10**9) == 60.0  # no overflow however many failures


def test_a_place_with_no_failure_never_waits() -> None:
    slow = Slowdown()
    assert slow.wait_before_attempt("192.0.2.1", now=0.0) == 0.0
    assert slow.wait_before_attempt("192.0.2.1", now=0.0) == 0.0
    assert len(slow) == 0


def test_after_failures_the_next_attempt_waits() -> None:
    slow = Slowdown(base=1.0)
    slow.failed("a", now=100.0)
    assert slow.wait_before_attempt("a", now=100.2) == pytest.approx(0.8)
    slow.failed("a", now=101.0)
    slow.failed("a", now=101.0)
    assert slow.failures("a", now=101.0) == 3
    assert slow.wait_before_attempt("a", now=101.0) == pytest.approx(4.0)
    assert slow.wait_before_attempt("b", now=101.0) == 0.0  # others are not affected


def test_attempts_at_the_same_moment_queue() -> None:
    slow = Slowdown(base=1.0)
    for _ in range(3):
        slow.failed("a", now=0.0)  # three failures: attempts 4 s apart
    waits = [slow.wait_before_attempt("a", now=10.0) for _ in range(4)]
    assert waits == [0.0, 4.0, 8.0, 12.0]


def test_a_success_does_not_wipe_the_record() -> None:
    slow = Slowdown(base=1.0)
    slow.failed("a", now=0.0)
    slow.failed("a", now=0.0)
    slow.wait_before_attempt("a", now=5.0)  # then that attempt succeeds: nothing to report
    assert slow.failures("a", now=5.0) == 2


def test_a_quiet_place_is_forgotten() -> None:
    slow = Slowdown(base=1.0, forget_after=900.0)
    slow.failed("a", now=0.0)
    assert slow.failures("a", now=899.0) == 1
    assert slow.failures("a", now=900.0) == 0
    assert len(slow) == 0


@given(
    st.lists(st.tuples(st.integers(0, 50), st.floats(0, 5), st.booleans()), max_size=300),
    st.integers(1, 20),
)
def test_memory_is_bounded_and_waits_are_sane(
    events: list[tuple[int, float, bool]], capacity: int
) -> None:
    slow = Slowdown(base=0.5, maximum=8.0, forget_after=30.0, capacity=capacity)
    now = 0.0
    for who, step, fails in events:
        now += step
        wait = slow.wait_before_attempt(str(who), now)
        assert wait >= 0.0
        if fails:
            slow.failed(str(who), now)
        assert len(slow) <= capacity
        assert 0.0 <= slow.delay(slow.failures(str(who), now)) <= 8.0


def test_the_oldest_place_is_forgotten_first_when_full() -> None:
    slow = Slowdown(capacity=2)
    slow.failed("a", now=0.0)
    slow.failed("b", now=1.0)
    slow.failed("a", now=2.0)  # a failed again: b is now the oldest
    slow.failed("c", now=3.0)
    assert (slow.failures("a", 3.0), slow.failures("b", 3.0), slow.failures("c", 3.0)) == (2, 0, 1)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("/run/soketler.sock", "/run/soketler.sock"),
    ],
)
def test_places(address: str, expected: str) -> None:
    assert place(address) == expected
