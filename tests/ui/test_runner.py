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
