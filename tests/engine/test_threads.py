"""Thread counts (torch: the free cores; ONNX Runtime: all), the overrides, ORT's spinning switch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seggui.core.errors import BadInputError
from seggui.engine import threads as th

STAT = """cpu  {u} {n} {s} 5000 0 0 0 0 0 0
cpu0 {u0} {n0} {s0} 2500 10 1 2 3 0 0
cpu1 {u1} {n1} 0 2500 10 0 0 0 0 0
intr 1 2 3
"""


def _stat(path: Path, u0: int, n0: int, s0: int, u1: int, n1: int) -> None:
    path.write_text(STAT.format(u=u0 + u1, n=n0 + n1, s=s0, u0=u0, n0=n0, s0=s0, u1=u1, n1=n1))


def test_stat_sums_busy_and_niced_ticks_of_the_allowed_cpus(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "stat"
    _stat(path, 100, 40, 20, 300, 7)
    monkeypatch.setattr(th, "_PROC_STAT", path)
    # cpu0: user 100 + system 20 + irq 1 + softirq 2 + steal 3; cpu1: user 300
    assert th._stat_jiffies({0, 1}) == (426, 47)
    assert th._stat_jiffies({1}) == (300, 7)
    assert th._stat_jiffies({5}) is None
    monkeypatch.setattr(th, "_PROC_STAT", tmp_path / "missing")
    assert th._stat_jiffies({0}) is None


def test_competing_load_leaves_out_our_own_time(tmp_path: Path, monkeypatch) -> None:
    """Over the sample another process kept one core busy, a niced one another; we used 0.1 core."""
    def measure(nice: int, autogroup: str | None) -> float | None:
        samples = iter([(1000, 500), (1000 + 100, 500 + 100)])  # +1 s busy, +1 s niced at 100 ticks/s
        own, clock = iter([5.0, 5.1]), iter([10.0, 11.0])
        monkeypatch.setattr(th, "_stat_jiffies", lambda cpus: next(samples))
        monkeypatch.setattr(th, "_own_cpu_s", lambda: next(own))
        monkeypatch.setattr(th.time, "monotonic", lambda: next(clock))
        monkeypatch.setattr(th.time, "sleep", lambda s: None)
        monkeypatch.setattr(th.os, "sysconf", lambda name: 100)
        monkeypatch.setattr(th.os, "getpriority", lambda which, who: nice)
        flag = tmp_path / "autogroup"
        flag.unlink(missing_ok=True)
        if autogroup is not None:
            flag.write_text(autogroup + "\n")
        monkeypatch.setattr(th, "_AUTOGROUP", flag)
        return th.competing_load()

    # autogroup on (the usual default): a niced process in another session competes in full
    assert measure(0, "1") == pytest.approx(1.9)
    # autogroup off: niced neighbours yield to us, so their core counts as free
    assert measure(0, "0") == pytest.approx(0.9)
    assert measure(0, None) == pytest.approx(0.9)
    # we are niced ourselves: niced neighbours are our peers
    assert measure(10, "0") == pytest.approx(1.9)


def test_load_meter_reads_the_load_since_its_last_reading_and_training_threads_follow_it(
        monkeypatch) -> None:
    import torch

    # readings: made, epoch 1 (quiet: only our own ticks), epoch 2 (another process kept 1.5 cores busy)
    samples = iter([(1000, 0), (1000 + 200, 0), (1200 + 150 + 200, 0)])
    # the clock: the meter made (0), each fitting's reading then the meter's (1, 1), (2, 2), 2.5, 3
    own, clock = iter([0.0, 2.0, 4.0]), iter([0.0, 1.0, 1.0, 2.0, 2.0, 2.5, 3.0])
    monkeypatch.setattr(th, "_stat_jiffies", lambda cpus: next(samples))
    monkeypatch.setattr(th, "_own_cpu_s", lambda: next(own))
    monkeypatch.setattr(th.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(th.os, "sysconf", lambda name: 100)
    monkeypatch.setattr(th, "allowed_cores", lambda: {0, 1})
    monkeypatch.delenv(th.THREADS_ENV, raising=False)
    before = torch.get_num_threads()
    try:
        tt = th.TrainingThreads()
        assert tt.fit() == 2 and torch.get_num_threads() == 2  # our own 2 cores are not "load"
        assert tt.fit() == 1 and torch.get_num_threads() == 1  # 1.5 cores busy elsewhere: one thread
        assert tt.fit(force=False) == 1  # within REFIT_S of the last fitting: no new reading (none is left)
        monkeypatch.setenv(th.THREADS_ENV, "2")
        assert th.TrainingThreads().fit() == 2  # SEGGUI_THREADS fixes it
    finally:
        torch.set_num_threads(before)


def test_adaptive_threads_take_the_free_cores() -> None:
    assert th.adaptive_threads(2, 0.0) == 2
    assert th.adaptive_threads(2, 0.4) == 2
    assert th.adaptive_threads(2, 0.6) == 1
    assert th.adaptive_threads(2, 3.5) == 1
    assert th.adaptive_threads(16, 5.2) == 11
    assert th.adaptive_threads(8, None) == 8  # no /proc/stat: all allowed cores


def test_overrides_and_their_errors(monkeypatch) -> None:
    monkeypatch.setattr(th, "competing_load", lambda sample_s=0.15: 0.0)
    monkeypatch.setattr(th, "allowed_cores", lambda: {0, 1, 2, 3})
    monkeypatch.delenv(th.THREADS_ENV, raising=False)
    assert th.inference_threads() == 4
    assert th.inference_threads(3) == 3
    monkeypatch.setenv(th.THREADS_ENV, "2")
    assert th.inference_threads() == 2 and th.inference_threads(1) == 1  # the argument wins
    monkeypatch.setenv(th.THREADS_ENV, "auto")
    assert th.inference_threads() == 4
    monkeypatch.setenv(th.THREADS_ENV, "two")
    with pytest.raises(BadInputError, match="SEGGUI_THREADS='two': give a whole number"):
        th.inference_threads()
    with pytest.raises(BadInputError, match="at least 1, not -2"):
        th.inference_threads(-2)
    monkeypatch.setattr(th, "competing_load", lambda sample_s=0.15: 3.0)
    monkeypatch.delenv(th.THREADS_ENV)
    assert th.inference_threads() == 1  # torch: the free cores
    assert th.inference_threads(adapt=False) == 4  # ONNX Runtime: every allowed core
    monkeypatch.setenv(th.THREADS_ENV, "3")
    assert th.inference_threads(adapt=False) == 3


def test_ort_workers_do_not_spin_unless_asked(monkeypatch) -> None:
    from seggui.engine.onnx_backend import session_options

    key = "session.intra_op.allow_spinning"
    monkeypatch.delenv(th.SPIN_ENV, raising=False)
    assert session_options(2).get_session_config_entry(key) == "0"
    assert session_options(2, spinning=True).get_session_config_entry(key) == "1"
    monkeypatch.setenv(th.SPIN_ENV, "1")
    assert session_options(2).get_session_config_entry(key) == "1"


def test_torch_runners_keep_their_own_thread_count() -> None:
    """torch has one CPU pool per process: each runner sets its count again before it runs."""
    import torch

    from seggui.engine.torch_backend import TorchRunner

    before = torch.get_num_threads()
    try:
        conv = torch.nn.Conv2d(3, 2, 1)
        one, two = TorchRunner(conv, "cpu", threads=1), TorchRunner(conv, "cpu", threads=2)
        assert (one.threads, two.threads, torch.get_num_threads()) == (1, 2, 2)
        one.run(np.zeros((1, 3, 4, 4), np.float32))
        assert torch.get_num_threads() == 1
        two.run(np.zeros((1, 3, 4, 4), np.float32))
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
