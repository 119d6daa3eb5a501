"""A live pixel classifier (ilastik's approach): scribbles of two or more classes -> a whole-picture mask.

For a class no model knows, the analyst paints a few strokes of each class;
a random forest (scikit-learn, the `assist` extra) learns from the painted
pixels' multi-scale filter responses and labels every other pixel. The
features are per-pixel and cheap (OpenCV): the Lab colour, and at sigmas
1, 2, 4 and 8 the smoothed Lab channels, the gradient magnitude and the
Laplacian of the lightness: 23 numbers a pixel, so texture and context
count, not only colour. Training samples are capped per class, so a long
stroke of one class does not drown a short one of another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

SIGMAS = (1.0, 2.0, 4.0, 8.0)
SAMPLES_PER_CLASS = 4000


def pixel_features(image: np.ndarray) -> np.ndarray:
    """(H, W, 23) float32 features of an RGB uint8 picture (see the module docstring)."""
    rgb = image if image.ndim == 3 else np.repeat(image[..., None], 3, axis=2)
    lab = cv2.cvtColor(np.ascontiguousarray(rgb[..., :3], np.uint8), cv2.COLOR_RGB2LAB).astype(np.float32)
    feats: list[np.ndarray] = [lab[..., c] for c in range(3)]
    for s in SIGMAS:
        smooth = cv2.GaussianBlur(lab, (0, 0), s)
        feats += [smooth[..., c] for c in range(3)]
        grey = smooth[..., 0]
        gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0)
        gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1)
        feats.append(cv2.magnitude(gx, gy))
        feats.append(cv2.Laplacian(grey, cv2.CV_32F))
    return np.stack(feats, axis=-1)


@dataclass
class PixelClassifier:
    """A random forest over `pixel_features`; `classes` the ids it learnt."""

    forest: Any
    classes: tuple[int, ...]

    @classmethod
    def fit(cls, features: np.ndarray, scribbles: np.ndarray, unlabelled: int, trees: int = 40,
            seed: int = 0) -> PixelClassifier:
        """Learn from the scribbled pixels (every pixel of `scribbles` that is not `unlabelled`).

        ValueError (a plain reason) with fewer than two classes scribbled.
        """
        try:
            from sklearn.ensemble import RandomForestClassifier
        except ImportError as exc:  # pragma: no cover - the extra is in the test set
            raise RuntimeError("the pixel classifier needs scikit-learn: "
                               "pip install 'seggui[assist]'") from exc
        if scribbles.shape != features.shape[:2]:
            raise ValueError(f"the scribbles are {scribbles.shape[1]}x{scribbles.shape[0]}, "
                             f"the picture {features.shape[1]}x{features.shape[0]}")
        ids = [int(c) for c in np.unique(scribbles) if c != unlabelled]
        if len(ids) < 2:
            named = f"only class {ids[0]}" if ids else "nothing"
            raise ValueError(f"scribbles of {named}: paint at least two classes "
                             "for the classifier to tell apart")
        rng = np.random.default_rng(seed)
        xs, ys = [], []
        for c in ids:
            where = np.flatnonzero(scribbles.ravel() == c)
            if where.size > SAMPLES_PER_CLASS:
                where = rng.choice(where, SAMPLES_PER_CLASS, replace=False)
            xs.append(features.reshape(-1, features.shape[-1])[where])
            ys.append(np.full(where.size, c))
        forest = RandomForestClassifier(n_estimators=trees, max_depth=14, min_samples_leaf=2, n_jobs=1,
                                        random_state=seed)
        forest.fit(np.concatenate(xs), np.concatenate(ys))
        return cls(forest, tuple(ids))

    def predict(self, features: np.ndarray, dtype: Any = np.uint8) -> np.ndarray:
        """A label per pixel, (H, W)."""
        h, w, f = features.shape
        out = np.empty(h * w, dtype)
        flat = features.reshape(-1, f)
        step = 1 << 17  # bounded memory for the per-tree votes
        for i in range(0, h * w, step):
            out[i:i + step] = self.forest.predict(flat[i:i + step])
        return out.reshape(h, w)


    def predict_confidence(self, features: np.ndarray,
                           dtype: Any = np.uint8) -> tuple[np.ndarray, np.ndarray]:
        """(labels (H, W), the forest's vote share for them (H, W) float32 in 0..1): a prediction and its
        confidence, as a model's softmax gives them, so uncertainty ranking works on its output too."""
        h, w, f = features.shape
        labels, conf = np.empty(h * w, dtype), np.empty(h * w, np.float32)
        flat = features.reshape(-1, f)
        ids = np.asarray(self.forest.classes_)
        step = 1 << 17
        for i in range(0, h * w, step):
            proba = self.forest.predict_proba(flat[i:i + step])
            best = proba.argmax(axis=1)
            labels[i:i + step] = ids[best]
            conf[i:i + step] = proba[np.arange(best.size), best]
        return labels.reshape(h, w), conf.reshape(h, w)


def classify_rest(image: np.ndarray, labels: np.ndarray, unlabelled: int) -> np.ndarray:
    """`labels` with every unlabelled pixel set by a classifier trained on the labelled ones."""
    feats = pixel_features(image)
    model = PixelClassifier.fit(feats, labels, unlabelled)
    out = model.predict(feats, labels.dtype)
    return np.where(labels == unlabelled, out, labels).astype(labels.dtype)
