"""The kinds of mask a frame has, spelled once.

A `StrEnum`, so every caller that still passes "predicted" or "ground_truth"
as a plain string keeps working (`MaskKind("corrected") == "corrected"`).
"""

from __future__ import annotations

from enum import StrEnum


class MaskKind(StrEnum):
    """A frame's masks: four stored in the workspace, one (`CURRENT`) only a view of them."""

    PREDICTED = "predicted"  # model output (index masks), predicted/ID.png
    CORRECTED = "corrected"  # the analyst's correction, corrected/ID.png
    GROUND_TRUTH = "ground_truth"  # imported truth, ground_truth/ID.png
    CONFIDENCE = "confidence"  # max-softmax confidence x 255, confidence/ID.png
    CURRENT = "current"  # what the analyst works on: the correction if any, else the prediction

    @property
    def stored(self) -> bool:
        """Whether the kind has its own folder in a workspace (all but CURRENT)."""
        return self is not MaskKind.CURRENT


STORED_KINDS = tuple(k for k in MaskKind if k.stored)
LABEL_KINDS = (MaskKind.PREDICTED, MaskKind.CORRECTED, MaskKind.GROUND_TRUTH)  # class-id masks
