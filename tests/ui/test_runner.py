"""The QThread job runner: results on the main thread, item errors, cancel, failure."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QThread

from seggui.core.errors import BadInputError
from seggui.core.jobs import CancelToken, Progress
from seggui.ui.runner import JobRunner


def test_progress_and_result_arrive_on_the_main_thread(qtbot) -> None:
    runner = JobRunner()
    main = QThread.currentThread()
    seen: list[tuple[int, bool]] = []
    worker_threads: set[int] = set()

    def job(token: CancelToken):
        for i in range(5):
            worker_threads.add(threading.get_ident())
            yield Progress(i + 1, 5, f"item {i}", error="bad item" if i == 2 else None)
        return "all done"

    runner.progress.connect(lambda p: seen.append((p.done, QThread.currentThread() is main)))
    with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:
        assert runner.start("test", job)
        assert runner.is_running()
        assert not runner.start("second", job)  # one job at a time
    assert blocker.args == ["all done"]
    assert seen == [(i, True) for i in range(1, 6)]
    assert threading.get_ident() not in worker_threads
    assert not runner.is_running()


def test_cancel_stops_a_long_job(qtbot) -> None:
    runner = JobRunner()
    steps: list[int] = []

    def endless(token: CancelToken):
        i = 0
        while True:  # never polls the token itself: the runner must stop it between yields
            i += 1
            steps.append(i)
            time.sleep(0.005)
            yield Progress(i, None, "working")

    finished: list[object] = []
    runner.finished.connect(finished.append)
    with qtbot.waitSignal(runner.progress, timeout=5000):
        runner.start("endless", endless)
    with qtbot.waitSignal(runner.cancelled, timeout=5000):
        runner.cancel()
    count = len(steps)
    qtbot.wait(100)
    assert len(steps) == count  # nothing ran after the cancel
    assert finished == [] and not runner.is_running()


def test_a_failing_job_reports_and_the_runner_is_reusable(qtbot) -> None:
    runner = JobRunner()

    def broken(token: CancelToken):
        yield Progress(0, 1)
        raise BadInputError("/data/x.png", "truncated PNG")

    with qtbot.waitSignal(runner.failed, timeout=5000) as blocker:
        runner.start("broken", broken)
    assert blocker.args[0] == "/data/x.png: truncated PNG"

    def crash(token: CancelToken):
        yield Progress(0, 1)
        raise ZeroDivisionError("boom")

    with qtbot.waitSignal(runner.failed, timeout=5000) as blocker:
        runner.start("crash", crash)
    assert blocker.args[0] == "ZeroDivisionError: boom" and "Traceback" in blocker.args[1]

    def quick(token: CancelToken):
        yield Progress(1, 1)
        return 42

    with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:
        runner.start("quick", quick)
    assert blocker.args == [42]


def test_each_job_has_its_own_handle_and_signals(qtbot) -> None:
    """A handle tells its own job's progress and end only; connecting after start misses nothing."""
    runner = JobRunner()

    def counting(n: int, fail: bool = False):
        def job(token: CancelToken):
            for i in range(n):
                yield Progress(i + 1, n, f"{n}:{i}")
            if fail:
                raise BadInputError("/data/y.png", "unreadable")
            return n
        return job

    first = runner.start("first", counting(3))
    assert first is not None and first.title == "first"
    got: list[object] = []
    first.progress.connect(lambda p: got.append(p.message))
    first.result.connect(lambda r: got.append(("result", r)))
    first.error.connect(lambda m, _d: got.append(("error", m)))
    with qtbot.waitSignal(first.finished, timeout=5000):
        pass
    assert got == ["3:0", "3:1", "3:2", ("result", 3)]

    second = runner.start("second", counting(2, fail=True))
    assert second is not None
    mine: list[object] = []
    second.progress.connect(lambda p: mine.append(p.message))
    second.error.connect(lambda m, _d: mine.append(("error", m)))
    second.result.connect(lambda r: mine.append(("result", r)))
    with qtbot.waitSignal(second.finished, timeout=5000):
        pass
    assert mine == ["2:0", "2:1", ("error", "/data/y.png: unreadable")]
    assert got == ["3:0", "3:1", "3:2", ("result", 3)]  # the first job's listeners heard nothing of it


def test_one_driver_runs_a_job_and_closes_it_when_stopped() -> None:
    from seggui.core.errors import Cancelled
    from seggui.core.jobs import drive

    closed: list[bool] = []

    def job(token: CancelToken):
        try:
            for i in range(10):
                yield Progress(i + 1, 10)
            return "done"
        finally:
            closed.append(True)

    seen: list[int] = []
    assert drive(job(CancelToken()), lambda p: seen.append(p.done)) == "done"
    assert seen == list(range(1, 11)) and closed == [True]

    def stop_at_three() -> None:
        if len(seen) == 13:
            raise Cancelled("cancelled")

    try:
        drive(job(CancelToken()), lambda p: seen.append(p.done), stop_at_three)
    except Cancelled:
        pass
    assert seen[10:] == [1, 2, 3] and closed == [True, True]  # stopped after the third, its finally ran


def test_progress_thinned_for_a_window_keeps_errors_data_and_the_end() -> None:
    from seggui.core.jobs import drive, every, map_progress

    def job(token: CancelToken):
        for i in range(1, 101):
            yield Progress(i, 100, error="bad" if i == 50 else None, data={"x": 1} if i == 70 else {})
        return "ok"

    seen: list[int] = []
    assert drive(map_progress(job(CancelToken()), every(3600.0)), lambda p: seen.append(p.done)) == "ok"
    assert seen == [1, 50, 70, 100]  # the first, the error, the one with data, the last
