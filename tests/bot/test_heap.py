"""heap.settle: what exists at start-up leaves the cycle collector's reach; what comes later does not."""

import gc
import weakref
from collections.abc import Iterator

import pytest

from bot import heap


@pytest.fixture
def thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the test run collects as before


def test_settle_freezes_what_exists_and_nothing_after(thawed: None) -> None:
    before = {"kept": [1, 2, 3]}
    count = heap.settle()
    after = {"new": [4]}
    tracked = {id(o) for o in gc.get_objects()}
    assert count == gc.get_freeze_count() > 0
    assert id(before) not in tracked and id(before["kept"]) not in tracked
    assert id(after) in tracked and id(after["new"]) in tracked


class _Node:
    def __init__(self) -> None:
        self.me = self


def test_settle_collects_garbage_before_freezing(thawed: None) -> None:
    node = _Node()
    gone = weakref.ref(node)
    del node  # an unreachable cycle: only the collector frees it
    assert gone() is not None
    heap.settle()
    assert gone() is None  # collected, not frozen for ever
