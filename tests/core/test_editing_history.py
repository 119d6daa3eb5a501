"""Undo/redo per stroke: byte-identical round trips, redo cleared, memory within its budget."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from seggui.core.classes import load_classes
from seggui.core.editing import Change, Editor, History, Record, merge
from seggui.core.editing.history import RECORD_OVERHEAD

U = 11


@pytest.fixture
def table():
    return load_classes("camvid-11")


def random_edit(e: Editor, rng: np.random.Generator) -> None:
    h, w = e.labels.shape
    kind = rng.integers(0, 10)
    v = int(rng.integers(0, 12))
    if kind < 6:
        e.begin_stroke(int(rng.integers(1, 15)), v, {U} if kind == 0 else None)
        for _ in range(int(rng.integers(1, 6))):
            e.stroke_to(rng.uniform(-3, w + 3), rng.uniform(-3, h + 3))
        e.end_stroke()
    elif kind == 6:
        e.fill(rng.uniform(0, w), rng.uniform(0, h), v, contiguous=bool(rng.integers(0, 2)))
    elif kind == 7:
        e.polygon([(rng.uniform(0, w), rng.uniform(0, h)) for _ in range(4)], v)
    elif kind == 8:
        e.replace(rng.integers(0, 12, (h, w)).astype(np.uint8), only_over={v})
    else:
        e.dab(rng.uniform(0, w), rng.uniform(0, h), 7, v)


def test_undo_then_redo_is_byte_identical(table) -> None:
    rng = np.random.default_rng(7)
    e = Editor(rng.integers(0, 12, (48, 64)).astype(np.uint8), table)
    states = [e.labels.tobytes()]
    for _ in range(60):
        before = len(e.history)
        random_edit(e, rng)
        if len(e.history) > before:
            states.append(e.labels.tobytes())
    assert len(e.history) == len(states) - 1 > 30
    for expected in reversed(states[:-1]):
        assert e.undo() is not None
        assert e.labels.tobytes() == expected
    assert e.undo() is None and not e.history.can_undo
    for expected in states[1:]:
        assert e.redo() is not None
        assert e.labels.tobytes() == expected
    assert e.redo() is None


def test_a_stroke_is_one_step_and_a_new_stroke_clears_redo(table) -> None:
    e = Editor(np.full((20, 20), U, np.uint8), table)
    e.begin_stroke(3, 1)
    for x in range(2, 18):
        e.stroke_to(x + 0.5, 5.5)
    e.end_stroke()
    e.dab(10.5, 15.5, 5, 2)
    assert len(e.history) == 2
    e.undo()
    e.undo()
    assert (e.labels == U).all()
    e.redo()
    assert e.history.can_redo
    e.dab(3.5, 15.5, 3, 4)  # a new edit forgets the undone dab
    assert not e.history.can_redo and e.redo() is None
    assert (e.labels == 1).sum() == 3 * 18 and (e.labels == 2).sum() == 0


def test_records_hold_only_changed_pixels(table) -> None:
    e = Editor(np.full((4096, 4096), U, np.uint8), table)
    e.begin_stroke(51, 3)
    e.stroke_to(2000.5, 2000.5)
    e.stroke_to(2010.5, 2004.5)
    change = e.end_stroke()
    assert change is not None and change.rect[2:] == (61, 55)
    record = Record.pack(change)
    # bits of the box + one old and one new value (all equal): a few hundred bytes, not 16 MB
    assert record.nbytes <= 61 * 55 // 8 + 1 + 2 + RECORD_OVERHEAD
    assert np.array_equal(record.unpack().mask, change.mask)
    assert e.history.nbytes == record.nbytes


def test_merge_keeps_first_old_and_last_new() -> None:
    a = Change(0, 0, np.array([[True, True]]), np.array([1, 2], np.uint8), np.array([5, 5], np.uint8))
    b = Change(0, 1, np.array([[True, True]]), np.array([5, 3], np.uint8), np.array([2, 7], np.uint8))
    m = merge([a, b])
    # pixel 1 went 2 -> 5 -> 2: back where it was, so it drops out
    assert m is not None and m.rect == (0, 0, 3, 1)
    assert m.mask.tolist() == [[True, False, True]] and m.old.tolist() == [1, 3] and m.new.tolist() == [5, 7]


def test_history_stays_within_its_memory_budget_over_1000_strokes(table) -> None:
    budget = 300_000
    rng = np.random.default_rng(3)
    e = Editor(np.full((600, 800), U, np.uint8), table, budget_bytes=budget)
    strokes = []
    for i in range(1000):
        x, y = rng.uniform(0, 800), rng.uniform(0, 600)
        pts = [(x + dx, y + dy) for dx, dy in rng.uniform(-30, 30, (3, 2))]
        strokes.append((int(rng.integers(3, 40)), i % 11, pts))
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        peak_history = 0
        for size, value, pts in strokes:
            e.begin_stroke(size, value)
            for x, y in pts:
                e.stroke_to(x, y)
            e.end_stroke()
            assert e.history.nbytes <= budget
            peak_history = max(peak_history, e.history.nbytes)
        held = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert e.history.dropped > 0 and len(e.history) > 20
    assert peak_history > budget * 0.9
    # what Python really holds (history + the editor's live counters, which do not grow) is near the budget
    assert held <= budget * 1.15 + 50_000
    # the steps still held undo exactly
    after = e.labels.copy()
    n = len(e.history)
    for _ in range(n):
        e.undo()
    for _ in range(n):
        e.redo()
    assert np.array_equal(e.labels, after)


def test_an_edit_bigger_than_the_budget_is_not_kept(table) -> None:
    e = Editor(np.random.default_rng(0).integers(0, 11, (100, 100)).astype(np.uint8), table,
               budget_bytes=5_000)
    e.dab(50.5, 50.5, 5, 11)
    assert len(e.history) == 1
    e.replace(np.random.default_rng(1).integers(0, 11, (100, 100)).astype(np.uint8))  # ~20 kB of values
    assert len(e.history) == 0 and e.history.nbytes == 0 and e.history.dropped == 2
    assert e.undo() is None
    with pytest.raises(ValueError):
        History(10)
