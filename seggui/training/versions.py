"""Model versions: every run writes a NEW card folder; the model it started from is untouched.

The analyst's current model keeps running while a fine-tune trains, and a
worse fine-tune must never replace a better model by accident; promotion is
a separate, explicit step. So a run refuses to write into a folder that
already holds a card (unless it is resuming its own unfinished run there) and
never into its parent's folder.

The new card records where it came from: the parent (``name@version``), the
full training config, a fingerprint of the data (names and sizes of every
file), library versions, and the validation metrics of the saved weights.
"""

from __future__ import annotations

import datetime as _dt
import platform
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from seggui.core.classes import ClassTable
from seggui.core.errors import BadInputError
from seggui.engine.card import CARD_FILE, InputSpec, ModelCard

WEIGHTS_FILE = "weights.safetensors"
RUN_DIR = "train"  # checkpoints and metrics of the run, inside the card folder
_VERSIONED = re.compile(r".+-v\d+")


def next_version_dir(base: Path, name: str) -> tuple[Path, int]:
    """The first free ``base/name-vN`` folder (N >= 2) and N, for a fine-tune's default place."""
    n = 2
    while (base / f"{name}-v{n}").exists():
        n += 1
    return base / f"{name}-v{n}", n


def claim_version_dir(base: Path, name: str, first: int) -> tuple[Path, int]:
    """Create ``base/name-vN`` for the first N >= `first` not taken, and return it with N.

    The exclusive mkdir is the claim: of two processes asking at once, one
    gets N and the other N+1, so every card's version number is its own.
    """
    base.mkdir(parents=True, exist_ok=True)
    n = first
    while True:
        folder = base / f"{name}-v{n}"
        try:
            folder.mkdir()
        except FileExistsError:
            n += 1
            continue
        return folder, n


@contextmanager
def discard_unfinished(folder: Path) -> Iterator[None]:
    """Remove a claimed ``models/name-vN`` folder when the block inside fails, is cancelled or is left.

    A retrain that does not finish is never listed as a version, so its
    folder (the snapshot of the corrections, a partial card) would only sit
    there unexplained; a killed process cannot clean up, which is why
    `unfinished_version_dirs` finds what such a run left.
    """
    try:
        yield
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def unfinished_version_dirs(base: Path) -> list[Path]:
    """``base/name-vN`` folders without a model card: runs that were killed before they finished."""
    if not base.is_dir():
        return []
    return sorted(d for d in base.iterdir()
                  if d.is_dir() and _VERSIONED.fullmatch(d.name) and not (d / CARD_FILE).exists())


def choose_out_dir(out: str | Path | None, parent: ModelCard | None, resume: bool) -> Path:
    """Where the new card goes; refuses to overwrite any existing card.

    Without `out`, a fine-tune goes next to its parent as ``<parent>-vN``.
    With `resume`, an existing folder is accepted only if it holds this
    run's checkpoint.
    """
    if out is None:
        if parent is None or parent.folder is None:
            raise BadInputError(None, "give an output folder for the new model card (--out DIR)")
        return next_version_dir(parent.folder.parent, parent.name)[0]
    path = Path(out)
    if parent is not None and parent.folder is not None and path.resolve() == parent.folder.resolve():
        raise BadInputError(path, "is the folder of the model being fine-tuned; a run never overwrites it")
    if resume:
        if not (path / RUN_DIR / "last.pt").is_file():
            raise BadInputError(path, f"nothing to resume: no {RUN_DIR}/last.pt checkpoint here")
        return path
    if (path / CARD_FILE).exists() or (path / RUN_DIR / "last.pt").exists():
        raise BadInputError(
            path, "already holds a model card or a run; choose another --out, or --resume that run"
        )
    return path


def library_versions() -> dict[str, str]:
    """Versions that shape the weights (for the card's provenance)."""
    import segmentation_models_pytorch as smp
    import torch

    from seggui import __version__

    return {"seggui": __version__, "torch": torch.__version__, "smp": smp.__version__,
            "python": platform.python_version()}


def build_card(
    *,
    name: str,
    version: int,
    description: str,
    architecture: str,
    encoder: str | None,
    arch_params: dict[str, Any],
    table: ClassTable,
    input_spec: InputSpec,
    parent: ModelCard | None,
    training: dict[str, Any],
    metrics: dict[str, Any],
    dataset: dict[str, Any],
) -> ModelCard:
    """The card of a run's result (not yet on disk)."""
    provenance = {
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "made_by": "seggui train",
        "dataset": dataset,
        "libraries": library_versions(),
    }
    return ModelCard(
        name=name,
        architecture=architecture,
        num_classes=table.size,
        classes_spec=table.to_dict(),
        encoder=encoder,
        arch_params=dict(arch_params),
        version=version,
        description=description,
        input=input_spec,
        weights=WEIGHTS_FILE,
        onnx=None,
        provenance=provenance,
        parent=parent.ref if parent is not None else None,
        training=training,
        metrics=metrics,
    )


def write_card(folder: Path, card: ModelCard, state: Any) -> Path:
    """Weights first, then model.json, each atomically: a card on disk always has its weights.

    A kill between the two leaves the previous model.json beside newer
    weights of the same architecture — still a loadable model.
    """
    from seggui.engine.weights import save_state_dict

    folder.mkdir(parents=True, exist_ok=True)
    save_state_dict(state, folder / WEIGHTS_FILE)
    return card.save(folder)
