"""The training child process of a retrain, read as a job (see seggui.training.run's protocol).

Kept apart from the planning (seggui.training.retrain) so each module holds one
concept: this one spawns ``python -m seggui.training.run CONFIG``, drains its
pipes, turns its JSON lines into Progress, cancels it and, when it ignores the
cancel, kills it.
"""

from __future__ import annotations

import collections
import json
import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from seggui.core.errors import Cancelled, SegguiError
from seggui.core.jobs import CancelToken, Job, Progress


class TrainingFailed(SegguiError):
    """The training process stopped with an error; the message carries its cause."""


@dataclass
class RetrainResult:
    """How the run ended: the new card folder, its status and the epoch records seen."""

    card_dir: Path
    status: str
    best_miou: float | None
    epochs_run: int
    epochs: list[dict[str, Any]] = field(default_factory=list)


class RetrainProcess:
    """``python -m seggui.training.run CONFIG`` as a child process, read as a job.

    stdout is the JSON-lines protocol of seggui.training.run; stderr is kept
    (its last lines) to explain a crash that left no ``error`` line.
    """

    def __init__(self, config: str | Path, python: str | None = None,
                 env: dict[str, str] | None = None, kill_after_s: float = 60.0) -> None:
        self.config = Path(config)
        self.python = python or sys.executable
        self.env = env
        self.kill_after_s = kill_after_s
        self.proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=40)

    def start(self) -> None:
        """Spawn the child and the threads that drain its pipes (a full pipe would stall it)."""
        self.proc = subprocess.Popen(
            [self.python, "-m", "seggui.training.run", str(self.config)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            encoding="utf-8", env={**os.environ, **(self.env or {})},
        )
        threading.Thread(target=self._drain, args=(self.proc.stdout, True), daemon=True).start()
        threading.Thread(target=self._drain, args=(self.proc.stderr, False), daemon=True).start()

    def _drain(self, stream: IO[str] | None, is_stdout: bool) -> None:
        assert stream is not None
        for line in stream:
            (self._lines.put if is_stdout else self._stderr.append)(line.rstrip("\n"))
        if is_stdout:
            self._lines.put(None)

    def cancel(self) -> None:
        """Ask the run to stop at its next step (it saves nothing half-done)."""
        if self.proc is not None and self.proc.poll() is None and self.proc.stdin is not None:
            try:
                self.proc.stdin.write("cancel\n")
                self.proc.stdin.flush()
            except (OSError, ValueError):  # already gone
                pass

    def kill(self) -> None:
        """Stop the child now (a run that ignores cancel); waits for it to exit."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait()

    def stderr_tail(self, lines: int = 8) -> str:
        return "\n".join(list(self._stderr)[-lines:])

    def _failure(self, message: str) -> TrainingFailed:
        tail = self.stderr_tail()
        return TrainingFailed(f"training failed: {message}" + (f"\n{tail}" if tail else ""))

    def job(self, token: CancelToken | None = None) -> Job[RetrainResult]:
        """Run to the end, yielding Progress per step/epoch; raises Cancelled or TrainingFailed."""
        if self.proc is None:
            self.start()
        assert self.proc is not None
        epochs: list[dict[str, Any]] = []
        cancel_sent: float | None = None
        final: dict[str, Any] | None = None
        done, total = 0, None
        try:
            while True:
                if token is not None and token.cancelled and cancel_sent is None:
                    self.cancel()
                    cancel_sent = time.monotonic()
                if cancel_sent is not None and time.monotonic() - cancel_sent > self.kill_after_s:
                    self.kill()
                try:
                    line = self._lines.get(timeout=0.2)
                except queue.Empty:
                    continue
                if line is None:
                    break
                try:
                    ev = json.loads(line)
                except json.JSONDecodeError:
                    self._stderr.append(line)
                    continue
                kind = ev.get("event")
                if kind in ("done", "cancelled", "error"):
                    final = ev
                elif kind == "warning":
                    yield Progress(done, total, "warning", error=str(ev.get("message")), data=ev)
                elif kind == "export":  # after the training: its done/total stay the run's
                    yield Progress(done, total, str(ev.get("message") or kind), data=ev)
                elif kind in ("step", "epoch", "setup", "start"):
                    if kind == "epoch":
                        epochs.append(ev)
                    done, total = int(ev.get("done") or done), ev.get("total", total)
                    yield Progress(done, total, str(ev.get("message") or kind), data=ev)
        finally:
            if self.proc.poll() is None and final is None:  # the caller stopped listening: stop the run
                self.cancel()
                try:
                    self.proc.wait(timeout=self.kill_after_s)
                except subprocess.TimeoutExpired:
                    self.kill()
        rc = self.proc.wait()
        if final is None:
            raise self._failure(f"the process exited with status {rc} and no result")
        if final["event"] == "cancelled":
            raise Cancelled("retraining cancelled; the current model stays in use")
        if final["event"] == "error":
            raise self._failure(str(final.get("message")))
        return RetrainResult(Path(final["card"]), str(final.get("status")), final.get("best_miou"),
                             int(final.get("epochs_run") or 0), epochs)
