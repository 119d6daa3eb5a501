"""The live pixel classifier run on other pictures like a model: its output is written as predictions.

Once the analyst has trained the classifier on scribbles of two or more
classes (Edit ▸ Classify unlabelled pixels from my strokes), it can label
other pictures of the workspace. Each gets predicted/ID.png and
confidence/ID.png (the forest's vote share for the chosen class), recorded
with the model ref `pixel-classifier (class, class, …)`, so the frames are
corrected, ranked by uncertainty and reviewed for retraining exactly like a
model's predictions; the workspace's model in use is left alone (Retrain
fine-tunes a network, not the forest).

What is kept with the workspace is the scribbles, not the forest: a
scikit-learn forest is saved with pickle (joblib), and loading a pickle runs
code from the file, which a workspace folder shared between analysts must
never do. The scribbles are one PNG (`pixel_classifier/ID.png`, the labelled
pixels of the picture trained on, unlabelled elsewhere) named in the
workspace settings (`pixel_classifier`), and retraining from them costs
about a second, so a reopened workspace applies the same classifier again
(same seed, same samples: the same forest).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from seggui.core.classes import ClassTable
from seggui.core.editing.pixel_classifier import PixelClassifier, pixel_features
from seggui.core.errors import BadInputError, SegguiError
from seggui.core.images import read_image
from seggui.core.jobs import CancelToken, Job, Progress
from seggui.core.masks import write_mask

MODEL_PREFIX = "pixel-classifier"
SCRIBBLE_DIR = "pixel_classifier"
SETTING = "pixel_classifier"  # workspace setting: {"frame": id, "classes": [ids]} of the saved scribbles


def model_ref(classes: Sequence[int], table: ClassTable | None) -> str:
    """How the frames' records name this classifier: `pixel-classifier (Road, Sky)`."""
    names = [table.name_of(c) if table is not None else str(c) for c in classes]
    return f"{MODEL_PREFIX} ({', '.join(str(n) for n in names)})"


def scribble_path(root: Path, frame_id: str) -> Path:
    """Where the scribbles the classifier was trained on are kept in a workspace."""
    safe = frame_id.replace("/", "__").replace("\\", "__")
    return Path(root) / SCRIBBLE_DIR / f"{safe}.png"


def save_scribbles(root: Path, frame_id: str, scribbles: np.ndarray) -> Path:
    """Write the scribbles (labels, unlabelled where not painted) atomically; OSError when it cannot."""
    path = scribble_path(root, frame_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_mask(path, scribbles)


def load_scribbles(path: Path) -> np.ndarray:
    """The saved scribbles; BadInputError naming the file when missing or damaged."""
    arr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED) if Path(path).exists() else None
    if arr is None or arr.ndim != 2:
        raise BadInputError(path, "the pixel classifier's scribbles are missing or damaged: paint strokes "
                                  "of two or more classes and classify again")
    return arr


def train(image: np.ndarray, scribbles: np.ndarray, unlabelled: int) -> PixelClassifier:
    """A classifier from one picture's scribbles (ValueError with scribbles of fewer than two classes)."""
    return PixelClassifier.fit(pixel_features(image), scribbles, unlabelled)


@dataclass(frozen=True)
class FrameToRead:
    """Where a frame's picture is: its own file, or frame `index` of the video `source`."""

    frame_id: str
    image: Path | None
    source: Path | None = None
    index: int | None = None


@dataclass(frozen=True)
class ClassifierPrediction:
    """What a prediction sink takes (`.labels`, `.confidence` in 0..1), as a model's prediction."""

    labels: np.ndarray
    confidence: np.ndarray


def frames_to_read(ws: Any, ids: Sequence[str]) -> list[FrameToRead]:
    """On the workspace owner's thread: where each frame's picture is (frames with neither are left out)."""
    out = []
    for fid in ids:
        rec = ws.frames.get(fid)
        if rec is None:
            continue
        if rec.image is not None:
            out.append(FrameToRead(fid, ws.image_path(fid)))
        elif rec.source is not None and rec.index is not None:
            out.append(FrameToRead(fid, None, ws.source_path(fid), int(rec.index)))
    return out


def classify_job(get_model: Callable[[], PixelClassifier], items: Sequence[FrameToRead],
                 sink: Callable[[int, str, np.ndarray, Any], None], dtype: Any,
                 token: CancelToken | None = None) -> Job[int]:
    """Label each frame with the classifier and hand it to `sink` (it writes the files); the count done.

    `sink(index, frame_id, picture, ClassifierPrediction)`, as a prediction
    pipeline calls its outputs (e.g. `core.outputs.DeferredWorkspaceOutputs`).

    `get_model` is called once, first (it may train from saved scribbles).
    A frame that cannot be read is reported in `Progress.error` and the job
    goes on; a cancel stops it between frames (what was written stays).
    """
    from seggui.core.media import open_source

    yield Progress(0, len(items), "training the pixel classifier…")
    model = get_model()
    sources: dict[Path, Any] = {}
    done = 0
    try:
        for i, item in enumerate(items):
            if token is not None:
                token.raise_if_cancelled()
            try:
                if item.image is not None:
                    image = read_image(item.image)
                else:
                    assert item.source is not None and item.index is not None
                    if item.source not in sources:
                        sources[item.source] = open_source(item.source)
                    image = sources[item.source].read(item.index)
                labels, conf = model.predict_confidence(pixel_features(image), dtype)
            except (SegguiError, OSError, ValueError) as exc:
                yield Progress(i + 1, len(items), f"{item.frame_id}: skipped", item=item.frame_id,
                               error=f"{item.frame_id}: not classified ({exc})")
                continue
            sink(i, item.frame_id, image, ClassifierPrediction(labels, conf))
            done += 1
            yield Progress(i + 1, len(items), f"classified {item.frame_id}", item=item.frame_id)
    finally:
        for src in sources.values():
            src.close()
    return done
