"""A training run's settings: one flat mapping, from YAML/JSON, flags, or code.

The same dict drives `seggui train --config FILE.yaml`, the GUI (which writes
it as JSON for `python -m seggui.training.run`) and tests. Unknown keys are an
error that names them, so a typo never silently trains with a default. The
whole mapping is stored in the new model card's ``training`` section.

Example (CamVid, a small Unet)::

    name: camvid-small
    data: {layout: camvid, root: ../shared/data/camvid}    # classes default per layout
    architecture: Unet
    encoder: resnet18
    epochs: 60
    batch: 8
    lr: 0.002
    crop: [352, 480]
    augment: driving
    loss: ce+0.5*dice        # or stages: [bce, iou, symdiff] with stage_patience
    class_weights: median
    out: models/camvid-small
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seggui.core.errors import BadInputError

# The class table a layout implies when the config names none.
LAYOUT_CLASSES = {
    "camvid": "camvid-11",
    "cityscapes": "cityscapes-19",
    "kitti": "kitti-road-2",
    "bdd100k": "bdd100k-drivable-3",
}


@dataclass
class DataConfig:
    """Where the pairs are. Validation: `val_split` of the layout, a `val_root`, or a held-out share."""

    layout: str = "folder"
    root: str = ""
    images: str = "images"  # folder layout: sub-folder names
    masks: str = "masks"
    train_split: str = "train"
    val_split: str | None = "val"  # None (or a missing split folder): hold out val_fraction
    val_root: str | None = None  # folder layout: another ROOT with images/ and masks/
    val_fraction: float = 0.1
    max_train: int | None = None  # use only the first N pairs (quick runs, tests)
    max_val: int | None = None
    # Validate on whole drives the model never sees: pictures whose file name starts with one of
    # these (e.g. ["0001TP"]) are taken out of every split and validate; the others of the train
    # and val splits all train. A figure on a drive seen in training flatters the model.
    val_drives: list[str] | None = None


@dataclass
class BaseConfig:
    """A base dataset mixed into every training epoch, against forgetting (see base_set.py).

    `share` is the fraction of each epoch's samples drawn from it; the rest
    are the run's own pairs (the corrections of a retrain). The base set never
    validates. `pairs` and `fingerprint` are what the planner counted: the run
    warns when the folder changed since.
    """

    layout: str = "folder"
    root: str = ""
    share: float = 0.5
    split: str = "train"
    images: str = "images"
    masks: str = "masks"
    pairs: int | None = None
    fingerprint: dict[str, Any] | None = None


@dataclass
class TrainConfig:
    """Every setting of a run; see the module docstring and the README for the meaning."""

    data: DataConfig = field(default_factory=DataConfig)
    name: str = ""
    description: str = ""
    classes: str | dict[str, Any] | None = None
    out: str | None = None
    from_model: str | None = None  # fine-tune from this card (folder, model.json, name or name@version)
    resume: bool = False
    architecture: str = "Unet"
    encoder: str = "resnet18"
    arch_params: dict[str, Any] = field(default_factory=dict)
    epochs: int = 30
    batch: int = 8
    lr: float = 1e-3
    optimizer: str = "adamw"
    weight_decay: float = 1e-4
    schedule: str = "onecycle"
    warmup: float = 0.3
    lr_patience: int = 3
    loss: str | dict[str, Any] = "ce"
    stages: list[Any] | None = None  # staged loss: switch on plateau
    stage_patience: int = 3
    class_weights: str = "none"
    class_weight_clip: float | None = None
    augment: str | list[Any] | None = "basic"
    crop: int | list[int] | None = None
    resize: int | list[int] | None = None
    # "best": the card is the epoch of the best validation mIoU; "last": the last epoch (a retrain whose
    # validation frames lack a class it learns: choosing on them would choose against that class)
    select: str = "best"
    early_stop: int = 0  # patience in epochs on val mIoU; 0 = never stop early
    min_delta: float = 0.0
    freeze_encoder_epochs: int = 0
    seed: int = 0
    deterministic: bool = False
    amp: bool | str = "auto"
    device: str = "auto"
    workers: int = 0
    steps_per_epoch: int | None = None  # cap (quick runs, benchmarks); None = the whole set
    passes: int = 1  # passes over the training pairs per epoch (one validation per epoch; see loop.py)
    # Stop once training (steps and validation, not set-up) has run this many seconds; the epoch in
    # progress is cut short and validated, the best epoch's card stays (see budget.py). None: no limit.
    time_budget_s: float | None = None
    budget_clock: str = "wall"  # "cpu": the process's CPU seconds (comparisons on a shared machine)
    # Export the finished card to ONNX (fp32, checked against torch) so `--backend auto` runs it on ONNX
    # Runtime: a retrain sets it when its parent had an export (seggui.training.run; a failure only warns)
    export_onnx: bool = False
    # With export_onnx: also int8, calibrated on the training pictures and scored against the validation
    # frames' masks (a workspace layout with val_root), so auto runs it where it is as accurate as fp32;
    # a retrain sets it when its parent ran int8 (ModelCard.int8_as_good)
    export_int8: bool = False
    mean: list[float] = field(default_factory=lambda: [0.485, 0.456, 0.406])
    std: list[float] = field(default_factory=lambda: [0.229, 0.224, 0.225])
    stride: int = 32
    base: BaseConfig | None = None  # a base dataset mixed into training (retraining without forgetting)
    version: int | None = None  # new card's version (a retrain claims it with its folder); None: parent's + 1

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str | Path | None = None) -> TrainConfig:
        """Build and check a config; errors name `where` (the config file)."""
        if not isinstance(data, dict):
            raise BadInputError(where, "a training config must be a mapping of settings")
        data = dict(data)
        if "arch" in data:  # the CLI flag's spelling
            data.setdefault("architecture", data.pop("arch"))
        if "from" in data:
            data.setdefault("from_model", data.pop("from"))
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise BadInputError(where, f"unknown training settings: {', '.join(unknown)}")
        raw_data = data.pop("data", None) or {}
        if not isinstance(raw_data, dict):
            raise BadInputError(where, '"data" must be a mapping (layout, root, ...)')
        dknown = {f.name for f in dataclasses.fields(DataConfig)}
        dunknown = sorted(set(raw_data) - dknown)
        if dunknown:
            raise BadInputError(where, f"unknown data settings: {', '.join(dunknown)}")
        base = _base_config(data.pop("base", None), where)
        try:
            cfg = cls(data=DataConfig(**raw_data), base=base, **data)
        except TypeError as exc:
            raise BadInputError(where, f"bad training config ({exc})") from None
        cfg.check(where)
        return cfg

    def check(self, where: str | Path | None = None) -> None:
        """Reject values no run could use, before any file is read."""
        problems = []
        for key in ("epochs", "batch"):
            if not isinstance(getattr(self, key), int) or getattr(self, key) < 1:
                problems.append(f"{key} must be a positive integer")
        if not (isinstance(self.lr, int | float) and self.lr > 0):
            problems.append("lr must be a positive number")
        if not isinstance(self.passes, int) or self.passes < 1:
            problems.append("passes must be a positive integer")
        tb = self.time_budget_s
        if tb is not None and not (isinstance(tb, int | float) and not isinstance(tb, bool) and tb > 0):
            problems.append("time_budget_s must be a positive number of seconds (or null for no limit)")
        if self.select not in ("best", "last"):
            problems.append('select must be "best" or "last"')
        if self.budget_clock not in ("wall", "cpu"):
            problems.append('budget_clock must be "wall" or "cpu"')
        if not 0 < self.warmup < 1:
            problems.append("warmup must lie strictly between 0 and 1")
        if self.version is not None and (not isinstance(self.version, int) or self.version < 1):
            problems.append("version must be a positive integer")
        if self.workers < 0:
            problems.append("workers must be >= 0")
        vd = self.data.val_drives
        if vd is not None and not (isinstance(vd, list) and vd and all(isinstance(x, str) and x for x in vd)):
            problems.append("data.val_drives must be a non-empty list of drive names (file name prefixes)")
        if not 0 <= self.data.val_fraction < 1:
            problems.append("data.val_fraction must lie in [0, 1)")
        if len(self.mean) != 3 or len(self.std) != 3 or min(self.std) <= 0:
            problems.append("mean and std need 3 values each, std positive")
        if self.stages is not None and not (isinstance(self.stages, list) and self.stages):
            problems.append("stages must be a non-empty list of losses")
        if self.base is not None:
            if not (isinstance(self.base.share, int | float) and 0 < self.base.share < 1):
                problems.append("base.share must lie strictly between 0 and 1")
            if not self.base.root:
                problems.append("base.root must name the base dataset's folder")
        if problems:
            raise BadInputError(where, "; ".join(problems))

    def default_classes(self) -> str | dict[str, Any] | None:
        """The configured class table, else the one the layout implies (None: decide later)."""
        return self.classes if self.classes is not None else LAYOUT_CLASSES.get(self.data.layout)


def _base_config(raw: Any, where: str | Path | None) -> BaseConfig | None:
    """The ``base`` mapping of a config as a BaseConfig (None: no base set)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise BadInputError(where, '"base" must be a mapping (layout, root, share, ...)')
    unknown = sorted(set(raw) - {f.name for f in dataclasses.fields(BaseConfig)})
    if unknown:
        raise BadInputError(where, f"unknown base settings: {', '.join(unknown)}")
    try:
        return BaseConfig(**raw)
    except TypeError as exc:
        raise BadInputError(where, f"bad base settings ({exc})") from None


def load_config(path: str | Path) -> TrainConfig:
    """Read a YAML or JSON training config; relative data/out paths stay relative to the cwd."""
    return TrainConfig.from_dict(read_config_dict(path), path)


def read_config_dict(path: str | Path) -> dict[str, Any]:
    """The raw mapping of a YAML or JSON config file (flags are merged into it before checking)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInputError(path, "training config not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(path, f"cannot read training config ({exc})") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadInputError(path, f"not valid JSON ({exc})") from None
    else:
        import yaml

        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise BadInputError(path, f"not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise BadInputError(path, "a training config must be a mapping of settings")
    return data
