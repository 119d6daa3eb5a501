"""Errors a user can act on.

Every error raised for bad input names the file (when there is one) and the
problem, so the CLI prints one line and the GUI shows one message without a
traceback, and a folder run can report the bad file and carry on.
"""

from __future__ import annotations

from pathlib import Path


class SegguiError(Exception):
    """Base class of the errors seggui reports to the user as a message."""


class BadInputError(SegguiError):
    """A file or value the user gave cannot be used; the message says why.

    `path` is the offending file (or None), `problem` the reason alone, so a
    caller can show them in a table as well as in one line.
    """

    def __init__(self, path: str | Path | None, problem: str) -> None:
        self.path = Path(path) if path is not None else None
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path is not None else problem)


class Cancelled(SegguiError):
    """A job stopped because its cancel token was set."""
