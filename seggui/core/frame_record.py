"""One frame of a workspace and where it stands: the records `seggui.json` lists under "frames".

Kept apart from `seggui.core.workspace` (which re-exports both names) so
the workspace module stays about the folder, its masks and its changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class FrameStatus(StrEnum):
    """Where a frame stands in the correct-and-retrain loop."""

    NONE = "none"  # no mask yet
    PREDICTED = "predicted"  # the model's mask, untouched
    CORRECTED = "corrected"  # edited by the analyst
    REVIEWED = "reviewed"  # checked and accepted for retraining
    # labels carried from a neighbouring frame along the optical flow (corrected/ID.png), untouched
    # since: shown, measured and reported like a correction, not trained on until reviewed or edited
    # (an edit makes it corrected; seggui.core.editing.propagate_drive)
    PROPAGATED = "propagated"


# statuses whose mask is the analyst's (shown, measured and reported as a correction), not the model's
CORRECTION_STATUSES = (FrameStatus.CORRECTED, FrameStatus.REVIEWED, FrameStatus.PROPAGATED)


def counted(n: int, drive_frames: int) -> str:
    """"1 picture", "3 frames", "5 pictures and frames": a drive has frames, a loose picture is a picture.

    `drive_frames` of the `n` belong to a drive. The window's messages say it the analyst's way
    (a walkthrough on four CamVid pictures read "Predicting 4 frames").
    """
    if 0 < drive_frames < n:
        return f"{n} pictures and frames"
    word = "frame" if drive_frames else "picture"
    return f"{n} {word}{'s' * (n != 1)}"


def count_records(records: list[FrameRecord]) -> str:
    """`counted` for these frames."""
    return counted(len(records), sum(r.drive is not None for r in records))


def done_of(done: int, what: str) -> str:
    """"the 4 pictures" when all of `what` (a `counted` text) were done, else "3 of the 4 pictures"."""
    return f"the {what}" if what.startswith(f"{done} ") else f"{done} of the {what}" if what else str(done)


@dataclass
class FrameRecord:
    """One picture or one frame of a video in the workspace.

    `image` is a picture file (relative to the workspace root when inside it);
    for a video frame `source` is the video and `index` the frame number.
    A frame of an image sequence has both: its picture in `image`, and the
    folder in `source` with the `pattern` that selects the sequence's files
    there (`seggui.core.media.sequences`) and its `index` in frame order.
    """

    id: str
    image: str | None = None
    source: str | None = None
    index: int | None = None
    status: FrameStatus = FrameStatus.NONE
    has_gt: bool = False
    model: str | None = None
    pattern: str | None = None

    @property
    def has_correction(self) -> bool:
        """Whether the frame's mask is the analyst's (corrected, reviewed, propagated), not the model's."""
        return self.status in CORRECTION_STATUSES

    @property
    def drive(self) -> str | None:
        """The drive this frame belongs to (its video, or folder/pattern), None for a picture."""
        if self.source is None:
            return None
        return self.source if self.pattern is None else f"{self.source.rstrip('/')}/{self.pattern}"

    def to_dict(self) -> dict[str, Any]:
        """The record as seggui.json stores it (no id: it is the key; no None values).

        Spelled out rather than `dataclasses.asdict`, which deep-copies: a save
        of a 2,000-frame drive spent most of its time there.
        """
        d = {"image": self.image, "source": self.source, "index": self.index, "status": str(self.status),
             "has_gt": self.has_gt, "model": self.model, "pattern": self.pattern}
        return {k: v for k, v in d.items() if v is not None}
