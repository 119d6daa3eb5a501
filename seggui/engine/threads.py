"""How many CPU threads inference uses, so that a busy machine does not make it collapse.

On a machine where other programs keep the cores busy, torch's OpenMP pool
collapses when it is as wide as the machine: every convolution waits at a
barrier for the thread the scheduler has put aside (two torch threads ran at
0.13-0.21x the speed of one on the busy 2-core machine this was measured on).
So the torch backend takes only the cores left free by other processes,
measured over a short sample of /proc/stat when the model is loaded.

ONNX Runtime's pool degrades gracefully instead, as long as its idle workers
sleep rather than spin: the calling thread takes blocks of work too, so a
descheduled worker only does less of it. Spinning workers were what hurt
(two spinning threads: 0.56-0.89x of one; sleeping: 0.89-1.25x). So ONNX
Runtime keeps every allowed core, with spinning off.

Niced processes (a background training run) count as competing too: with the
kernel's autogroup scheduling (on by default in most Linux distributions) a
process niced in another terminal session takes its full share of the CPU
whatever its nice value (seen here: a nice-19 training run used more CPU than
all normal-priority processes together). Only where autogroup is off and this
process is not niced itself is niced time counted as free.

Override: the backends' `threads` argument (`--threads N`), else the
environment variable SEGGUI_THREADS=N; SEGGUI_ORT_SPIN=1 turns ONNX Runtime's
spinning back on.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from seggui.core.errors import BadInputError

THREADS_ENV = "SEGGUI_THREADS"
SPIN_ENV = "SEGGUI_ORT_SPIN"
SAMPLE_S = 0.15
REFIT_S = 10.0  # a training run looks at the load again after this many seconds
_PROC_STAT = Path("/proc/stat")
_AUTOGROUP = Path("/proc/sys/kernel/sched_autogroup_enabled")


def allowed_cores() -> set[int]:
    """The CPUs this process may run on."""
    try:
        return set(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return set(range(os.cpu_count() or 1))


def _stat_jiffies(cpus: set[int]) -> tuple[int, int] | None:
    """(busy at normal priority, busy niced) clock ticks summed over `cpus`; None without /proc."""
    try:
        lines = _PROC_STAT.read_text().splitlines()
    except OSError:
        return None
    busy = nice = 0
    seen = False
    for line in lines:
        head, _, rest = line.partition(" ")
        if not head.startswith("cpu") or head == "cpu" or int(head[3:]) not in cpus:
            continue
        f = [int(v) for v in rest.split()]
        # user nice system idle iowait irq softirq steal (guest time is already inside user)
        busy += f[0] + f[2] + f[5] + f[6] + (f[7] if len(f) > 7 else 0)
        nice += f[1]
        seen = True
    return (busy, nice) if seen else None


def _own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


class LoadMeter:
    """Cores kept busy by other processes since the previous reading, read without waiting.

    A long job (a training run) reads it between epochs, so its thread count
    follows the machine's load as it changes instead of a guess at the start.
    """

    def __init__(self) -> None:
        self.cpus = allowed_cores()
        self._last = self._now()

    def _now(self) -> tuple[tuple[int, int] | None, float, float]:
        return _stat_jiffies(self.cpus), _own_cpu_s(), time.monotonic()

    def load(self) -> float | None:
        """Other processes' busy cores since the last call (or since made); None without /proc/stat."""
        (before, own0, t0), (after, own1, t1) = self._last, self._now()
        self._last = (after, own1, t1)
        if before is None or after is None or t1 - t0 < 1e-3:
            return None
        hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        busy, nice = (after[0] - before[0]) / hz, (after[1] - before[1]) / hz
        competing = busy + nice if _nice_competes() else busy
        return max(0.0, (competing - (own1 - own0)) / (t1 - t0))


def competing_load(sample_s: float = SAMPLE_S) -> float | None:
    """Cores kept busy by other processes over `sample_s` seconds (None where /proc/stat is missing).

    This process's own time is subtracted, so threads of ours that are busy
    at that moment (decoding, drawing) do not make inference shy.
    """
    meter = LoadMeter()
    time.sleep(sample_s)
    return meter.load()


class TrainingThreads:
    """The CPU training loop's torch thread count, fitted to the load before each epoch and within one.

    Why: a training step is a chain of OpenMP barriers, so on a busy machine
    a pool as wide as the machine waits for its descheduled thread at each
    one; a retrain on two cores beside another job took 4-5x the CPU seconds
    per epoch with two threads (tests/benchmarks/retrain_houston.py). With
    SEGGUI_THREADS set the count is that, fixed.
    """

    def __init__(self) -> None:
        self.fixed = env_threads()
        self.cores = len(allowed_cores())
        self.meter = LoadMeter() if self.fixed is None else None
        self.n: int | None = None
        self.at = 0.0

    def fit(self, force: bool = True) -> int:
        """Set torch's thread count from the load since the last fitting; returns it.

        Called before each epoch (`force`) and before each step, where it
        looks again only every REFIT_S seconds: one epoch of a big network
        can outlast a whole budget, and the load it started under may be gone.
        """
        import torch

        now = time.monotonic()
        if self.n is not None and not force and now - self.at < REFIT_S:
            return self.n
        self.at = now
        if self.fixed is not None:  # SEGGUI_THREADS set: its count, never refitted
            self.n = self.fixed
        else:
            assert self.meter is not None
            self.n = adaptive_threads(self.cores, self.meter.load())
        if torch.get_num_threads() != self.n:
            torch.set_num_threads(self.n)
        return self.n


def _nice_competes() -> bool:
    """Whether niced processes take CPU from this one (see the module docstring)."""
    try:
        if os.getpriority(os.PRIO_PROCESS, 0) > 0:
            return True  # our own ticks land in "nice" too, and niced neighbours are our peers
    except (AttributeError, OSError):  # pragma: no cover
        return True
    try:
        return _AUTOGROUP.read_text().strip() != "0"
    except OSError:
        return False


def adaptive_threads(cores: int, load: float | None) -> int:
    """Threads for `cores` allowed cores of which `load` are busy elsewhere: the free ones, at least 1."""
    if load is None:
        return max(1, cores)
    return max(1, min(cores, int(cores - load + 0.5)))


def env_threads() -> int | None:
    """SEGGUI_THREADS as a count, None when unset or "auto"; a bad value is refused by name."""
    raw = os.environ.get(THREADS_ENV, "").strip()
    if not raw or raw.lower() == "auto":
        return None
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise BadInputError(None, f"{THREADS_ENV}={raw!r}: give a whole number of threads (1 or more) "
                                  "or auto")
    return n


def inference_threads(requested: int | None = None, *, adapt: bool = True) -> int:
    """The CPU thread count for a backend: the caller's, else SEGGUI_THREADS, else the default.

    The default is the cores left free by other processes (`adapt`, for
    torch), or every allowed core (ONNX Runtime; see the module docstring).
    """
    if requested:
        if requested < 1:
            raise BadInputError(None, f"the thread count must be at least 1, not {requested}")
        return int(requested)
    fixed = env_threads()
    if fixed is not None:
        return fixed
    cores = len(allowed_cores())
    if not adapt or cores <= 1:
        return max(1, cores)
    return adaptive_threads(cores, competing_load())


def ort_spinning() -> bool:
    """Whether ONNX Runtime's idle workers busy-wait (SEGGUI_ORT_SPIN=1); off by default."""
    return os.environ.get(SPIN_ENV, "").strip().lower() in ("1", "true", "yes", "on")
