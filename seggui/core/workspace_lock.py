"""OS locks on a workspace: a short one around each save of seggui.json, a long one while a window has it.

Two processes often work on one workspace at once: the window and a
``seggui retrain --promote`` in a terminal, or two analysts on a shared
folder. Each save is a read-modify-write of seggui.json (see
seggui.core.workspace_merge) and must not interleave with another's, so it
holds `workspace_lock` — an exclusive OS lock (``flock`` on Linux/macOS,
``msvcrt.locking`` on Windows) on ``WORKSPACE/.seggui.lock``. The OS drops
the lock when the holder dies, so a killed process never leaves a workspace
locked; the file itself stays, empty, and means nothing on its own.

`WorkspaceLease` is the long lock: a window holds it for as long as it has
the workspace open, on another file (``.seggui.lease``) that also records
who holds it (pid, host, since), so a second window can open the workspace
read-only and say whose it is.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

from seggui.core.errors import BadInputError

LOCK_FILE = ".seggui.lock"
LEASE_FILE = ".seggui.lease"
LOCK_TIMEOUT_S = 30.0  # a save waits this long for another process's save (each takes milliseconds)
_WIN_OFFSET = 1 << 30  # Windows locks a byte range and blocks reading it: lock a byte far past the text

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(f: IO[Any]) -> bool:
        f.seek(_WIN_OFFSET)
        try:
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True

    def _unlock(f: IO[Any]) -> None:
        f.seek(_WIN_OFFSET)
        msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
else:
    import fcntl

    def _try_lock(f: IO[Any]) -> bool:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(f: IO[Any]) -> None:
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _open(path: Path) -> IO[Any]:
    """The lock file opened for update (created when missing); a read-only folder is said plainly."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise BadInputError(path, f"cannot lock the workspace ({exc.strerror or exc}); "
                            "is the folder read-only?") from None
    return os.fdopen(fd, "r+b")


class LockTimeout(BadInputError):
    """Another process kept the workspace locked longer than the wait allowed."""


@contextlib.contextmanager
def workspace_lock(root: str | Path, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the workspace's write lock for the body (waits up to `timeout_s`, then LockTimeout)."""
    path = Path(root) / LOCK_FILE
    f = _open(path)
    try:
        deadline = time.monotonic() + timeout_s
        delay = 0.002
        while not _try_lock(f):
            if time.monotonic() >= deadline:
                raise LockTimeout(path, f"another process has held the workspace lock for over "
                                  f"{timeout_s:.0f} s; the workspace was not saved")
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        try:
            yield
        finally:
            _unlock(f)
    finally:
        f.close()


class WorkspaceLease:
    """A workspace held open by this process (one window); `release()` or `with` lets it go.

    Acquire with `WorkspaceLease.acquire(root)`: None means another process
    (or another window of this one) holds it; `holder(root)` then says who.
    """

    def __init__(self, root: Path, handle: IO[Any]) -> None:
        self.root = root
        self._f: IO[Any] | None = handle

    @classmethod
    def acquire(cls, root: str | Path) -> WorkspaceLease | None:
        """Take the lease without waiting, recording our pid and host; None when it is held."""
        root = Path(root)
        f = _open(root / LEASE_FILE)
        if not _try_lock(f):
            f.close()
            return None
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "since": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}
        try:
            f.seek(0)
            f.truncate()
            f.write(json.dumps(info).encode("utf-8"))
            f.flush()
        except OSError:  # the lock is what counts; the note only helps the message
            pass
        return cls(root, f)

    @staticmethod
    def holder(root: str | Path) -> dict[str, Any] | None:
        """Who holds (or last held) the lease: {"pid", "host", "since"}, or None when unknown."""
        try:
            with open(Path(root) / LEASE_FILE, "rb") as f:
                data = json.loads(f.read(4096).decode("utf-8") or "null")
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
        return data if isinstance(data, dict) else None

    @staticmethod
    def describe_holder(root: str | Path) -> str:
        """A phrase for the read-only banner: "process 123 on host-a since 2026-...", or "another window"."""
        h = WorkspaceLease.holder(root)
        if not h:
            return "another window"
        return f"process {h.get('pid')} on {h.get('host')} since {h.get('since')}"

    @property
    def held(self) -> bool:
        return self._f is not None

    def release(self) -> None:
        """Let the workspace go (idempotent); the holder note is cleared so it is not misread later."""
        f, self._f = self._f, None
        if f is None:
            return
        try:
            f.seek(0)
            f.truncate()
            _unlock(f)
        except (OSError, ValueError):  # ValueError: already closed (a lease collected at shutdown)
            pass
        finally:
            f.close()

    def __enter__(self) -> WorkspaceLease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __del__(self) -> None:  # a forgotten lease must not hold the workspace until exit
        self.release()


class LeaseKeeper:
    """The lease of the one workspace a window has open: taken on open, let go when another opens.

    `hold(ws)` returns None when this window has the workspace to itself,
    else who holds it; the workspace is then marked read-only
    (`Workspace.read_only`), so nothing of this window is saved over the
    other's work.
    """

    def __init__(self) -> None:
        self.lease: WorkspaceLease | None = None

    def hold(self, ws: Any) -> str | None:
        root = Path(ws.root).resolve()
        if self.lease is not None and self.lease.held and self.lease.root == root:
            return None  # the same workspace again (reloaded views): still ours
        self.release()
        self.lease = WorkspaceLease.acquire(root)
        if self.lease is None:
            ws.read_only = WorkspaceLease.describe_holder(root)
        return cast(str | None, ws.read_only)

    def release(self) -> None:
        if self.lease is not None:
            self.lease.release()
            self.lease = None
