"""Model cards: a folder that says everything needed to run a segmentation model.

A card is a folder ``models/<name>/`` holding ``model.json`` beside the weights
(and optionally an ONNX export). Users bring their own model by writing one;
other parts of seggui (training, the UI) read and write the same format::

    {
      "format": "seggui-model/1",
      "name": "parking-demo", "version": 1, "description": "...",
      "architecture": "Unet",         # smp class name (Unet, UnetPlusPlus, FPN, PSPNet, DeepLabV3,
                                      # DeepLabV3Plus, Linknet, MAnet, PAN, UPerNet, Segformer, DPT)
                                      # or "torchvision.fcn_resnet50", or "FCN8s" (engine.nets)
      "encoder": "resnet18",          # any smp encoder (ignored by torchvision.fcn_resnet50;
                                      # FCN8s: vgg16 (default), vgg16_bn, vgg11/13/19[_bn])
      "arch_params": {},              # extra keyword arguments to the smp class / network
      "classes": {...},               # a class table as ClassTable.to_dict(), or a preset name
                                      # ("camvid-11"), or a JSON file name relative to the folder
      "num_classes": 12,              # output channels; must equal the table's size (max id + 1)
      "input": {
        "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "max_pixel_value": 255.0,
        "resize": "none",             # "none" | "fixed" (size = [H, W]) | "max_side" (size = int;
                                      #   only larger pictures are scaled down)
        "size": null, "stride": 32,   # inputs are padded to a multiple of stride, then cropped back
        "pad": "reflect",             # optional: "reflect" (default) or "constant" (zeros)
        "tile_size": 1024, "tile_overlap": 128   # pictures larger than a tile are tiled
      },
      "weights": "weights.safetensors",   # or a .pt/.pth state dict; relative to the folder
      "onnx": "model.onnx",               # or null; written by `seggui export-onnx`
      "onnx_int8": null,                  # optional: an int8 ONNX beside it
      "provenance": {...}, "parent": null, # parent: "name@version" of the model fine-tuned from
      "training": {...}, "metrics": {...}
    }

Keys the loader does not know are kept and written back, so a newer card
survives a round trip through an older seggui. `find_models()` lists the cards
of `seggui.paths.model_search_dirs()`; `resolve_model()` turns what a user typed
(a folder, a model.json, an .onnx file, a name or ``name@version``) into a card.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from seggui.core.atomic import atomic_write_json
from seggui.core.classes import ClassTable, load_classes
from seggui.core.errors import BadInputError
from seggui.core.jsonfile import read_json
from seggui.paths import model_search_dirs

CARD_FORMAT = "seggui-model/1"
CARD_FILE = "model.json"
RESIZE_POLICIES = ("none", "fixed", "max_side")
# int8 may score this much below fp32 against ground truth and still be preferred by backend "auto"
INT8_MIOU_TOLERANCE = 0.005
PAD_MODES = ("reflect", "constant")
_KNOWN_KEYS = {
    "format", "name", "version", "description", "architecture", "encoder", "arch_params", "classes",
    "num_classes", "input", "weights", "onnx", "onnx_int8", "provenance", "parent", "training", "metrics",
}


@dataclass(frozen=True)
class InputSpec:
    """How pictures are prepared for the model; the network saw them this way in training."""

    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    max_pixel_value: float = 255.0
    resize: str = "none"
    size: int | tuple[int, int] | None = None
    stride: int = 32
    pad: str = "reflect"
    tile_size: int | None = 1024
    tile_overlap: int = 128

    def __post_init__(self) -> None:
        self.validate(None)

    def validate(self, where: Path | None) -> None:
        """Raise a BadInputError naming `where` for values no predictor could use."""
        if len(self.mean) != 3 or len(self.std) != 3:
            raise BadInputError(where, "input mean and std need 3 values (R, G, B)")
        if any(not math.isfinite(s) or s <= 0 for s in self.std):
            raise BadInputError(where, f"input std must be positive, got {list(self.std)}")
        if self.max_pixel_value <= 0:
            raise BadInputError(where, "input max_pixel_value must be positive")
        if self.resize not in RESIZE_POLICIES:
            raise BadInputError(where, f"input resize {self.resize!r} is not one of {RESIZE_POLICIES}")
        if self.resize == "fixed" and not (isinstance(self.size, tuple) and len(self.size) == 2):
            raise BadInputError(where, 'input resize "fixed" needs size [H, W]')
        if self.resize == "max_side" and not isinstance(self.size, int):
            raise BadInputError(where, 'input resize "max_side" needs size as one integer')
        sizes = self.size if isinstance(self.size, tuple) else (self.size,) if self.size else ()
        if any(int(s) < 1 for s in sizes):
            raise BadInputError(where, f"input size must be positive, got {self.size}")
        if self.stride < 1:
            raise BadInputError(where, f"input stride must be >= 1, got {self.stride}")
        if self.pad not in PAD_MODES:
            raise BadInputError(where, f"input pad {self.pad!r} is not one of {PAD_MODES}")
        if self.tile_size is not None:
            if self.tile_size < self.stride or self.tile_size % self.stride:
                raise BadInputError(
                    where, f"tile_size {self.tile_size} must be a positive multiple of stride {self.stride}"
                )
            if not 0 <= self.tile_overlap < self.tile_size:
                raise BadInputError(
                    where, f"tile_overlap {self.tile_overlap} must lie in 0..tile_size-1 ({self.tile_size})"
                )

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean": list(self.mean), "std": list(self.std), "max_pixel_value": self.max_pixel_value,
            "resize": self.resize, "size": list(self.size) if isinstance(self.size, tuple) else self.size,
            "stride": self.stride, "pad": self.pad,
            "tile_size": self.tile_size, "tile_overlap": self.tile_overlap,
        }

    @classmethod
    def from_dict(cls, data: Any, where: Path | None = None) -> InputSpec:
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise BadInputError(where, '"input" must be an object')
        d = cls()
        try:
            size = data.get("size", d.size)
            if isinstance(size, list | tuple):
                size = (int(size[0]), int(size[1])) if len(size) == 2 else tuple(int(s) for s in size)
            elif size is not None:
                size = int(size)
            tile = data.get("tile_size", d.tile_size)
            spec = cls(
                mean=tuple(float(v) for v in data.get("mean", d.mean)),  # type: ignore[arg-type]
                std=tuple(float(v) for v in data.get("std", d.std)),  # type: ignore[arg-type]
                max_pixel_value=float(data.get("max_pixel_value", d.max_pixel_value)),
                resize=str(data.get("resize", d.resize)),
                size=size,  # type: ignore[arg-type]
                stride=int(data.get("stride", d.stride)),
                pad=str(data.get("pad", d.pad)),
                tile_size=None if tile in (None, 0) else int(tile),
                tile_overlap=int(data.get("tile_overlap", d.tile_overlap)),
            )
        except BadInputError as exc:
            raise BadInputError(where, exc.problem) from None
        except (TypeError, ValueError, IndexError) as exc:
            raise BadInputError(where, f'bad value in "input" ({exc})') from None
        return spec


@dataclass
class ModelCard:
    """A parsed model.json; paths resolve against the card's folder."""

    name: str
    architecture: str
    num_classes: int
    classes_spec: dict[str, Any] | str
    encoder: str | None = None
    arch_params: dict[str, Any] = field(default_factory=dict)
    version: int = 1
    description: str = ""
    input: InputSpec = field(default_factory=InputSpec)
    weights: str | None = "weights.safetensors"
    onnx: str | None = None
    onnx_int8: str | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    parent: str | None = None
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    folder: Path | None = None

    # ---------------------------------------------------------------- paths
    @property
    def json_path(self) -> Path | None:
        return self.folder / CARD_FILE if self.folder else None

    @property
    def ref(self) -> str:
        """`name@version`, the way a fine-tune names its parent."""
        return f"{self.name}@{self.version}"

    def _path(self, rel: str | None) -> Path | None:
        if rel is None:
            return None
        p = Path(rel)
        if self.folder is None:
            return p
        _check_inside(rel, "file", self.json_path)
        return self.folder / p

    @property
    def weights_path(self) -> Path | None:
        """Where the weights file should be (it may be missing; see `require_weights`)."""
        return self._path(self.weights)

    @property
    def onnx_path(self) -> Path | None:
        return self._path(self.onnx)

    @property
    def onnx_int8_path(self) -> Path | None:
        return self._path(self.onnx_int8)

    @property
    def int8_as_good(self) -> bool:
        """Whether the card's export measured int8 within INT8_MIOU_TOLERANCE of fp32 against ground truth.

        Only a measurement against masks says so (`seggui export-onnx --int8 --check-masks`):
        agreement with fp32 cannot tell whether the changed pixels became right or wrong.
        Backend "auto" runs such a card's int8 file on the CPU, two to three times faster.
        """
        export = self.provenance.get("onnx_export")
        int8 = export.get("int8") if isinstance(export, dict) else None
        scores = int8.get("miou_vs_truth") if isinstance(int8, dict) else None
        if self.onnx_int8 is None or not isinstance(scores, dict):
            return False
        try:
            return float(scores["int8"]) >= float(scores["fp32"]) - INT8_MIOU_TOLERANCE
        except (KeyError, TypeError, ValueError):
            return False

    def require_weights(self) -> Path:
        """The weights file, or a BadInputError naming the card and the missing file."""
        path = self.weights_path
        if path is None:
            raise BadInputError(self.json_path, f"model card {self.name!r} names no weights file")
        if not path.is_file():
            raise BadInputError(
                path, f"weights file of model card {self.name!r} ({self.json_path}) is missing "
                "(file not found)"
            )
        return path

    def require_onnx(self, int8: bool = False) -> Path:
        """The ONNX file (or its int8 twin), or a BadInputError saying how to make one."""
        path = self.onnx_int8_path if int8 else self.onnx_path
        kind = "int8 ONNX" if int8 else "ONNX"
        if path is None:
            raise BadInputError(
                self.json_path,
                f"model card {self.name!r} has no {kind} export (run: seggui export-onnx --model "
                f"{self.folder or self.name} --out DIR{' --int8' if int8 else ''})",
            )
        if not path.is_file():
            raise BadInputError(path, f"{kind} file of model card {self.name!r} ({self.json_path}) not found")
        return path

    # -------------------------------------------------------------- classes
    @cached_property
    def classes(self) -> ClassTable:
        """The class table; its size must equal the model's output channels."""
        spec = self.classes_spec
        if isinstance(spec, dict):
            table = ClassTable.from_dict(spec, self.json_path)
        elif isinstance(spec, str) and spec.lower().endswith(".json") and self.folder is not None:
            table = load_classes(self._path(spec))  # type: ignore[arg-type]
        else:
            table = load_classes(spec)
        if table.size != self.num_classes:
            raise BadInputError(
                self.json_path,
                f"num_classes is {self.num_classes} but the class table {table.name!r} needs "
                f"{table.size} output channels (largest id + 1)",
            )
        return table

    # ------------------------------------------------------- (de)serialise
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": CARD_FORMAT,
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "architecture": self.architecture,
            "encoder": self.encoder,
            "arch_params": copy.deepcopy(self.arch_params),
            "classes": copy.deepcopy(self.classes_spec),
            "num_classes": self.num_classes,
            "input": self.input.to_dict(),
            "weights": self.weights,
            "onnx": self.onnx,
        }
        if self.onnx_int8 is not None:
            out["onnx_int8"] = self.onnx_int8
        out.update(
            provenance=copy.deepcopy(self.provenance), parent=self.parent,
            training=copy.deepcopy(self.training), metrics=copy.deepcopy(self.metrics),
        )
        out.update(copy.deepcopy(self.extra))
        return out

    @classmethod
    def from_dict(cls, data: Any, folder: Path | None = None) -> ModelCard:
        """Parse a card; errors name model.json and the faulty key."""
        where = folder / CARD_FILE if folder else None
        if not isinstance(data, dict):
            raise BadInputError(where, "a model card must be a JSON object")
        fmt = data.get("format", CARD_FORMAT)
        if not str(fmt).startswith("seggui-model/"):
            raise BadInputError(where, f"format {fmt!r} is not a seggui model card ({CARD_FORMAT})")
        if str(fmt) != CARD_FORMAT:
            raise BadInputError(where, f"card format {fmt!r} is newer than this seggui reads ({CARD_FORMAT})")
        for key in ("name", "architecture", "classes", "num_classes"):
            if data.get(key) in (None, ""):
                raise BadInputError(where, f'model card lacks "{key}"')
        classes = data["classes"]
        if not isinstance(classes, dict | str):
            raise BadInputError(where, '"classes" must be a class table object or a preset name')
        try:
            num = int(data["num_classes"])
            version = int(data.get("version", 1))
        except (TypeError, ValueError):
            raise BadInputError(where, "num_classes and version must be integers") from None
        if num < 1:
            raise BadInputError(where, f"num_classes must be >= 1, got {num}")
        for key in ("arch_params", "provenance", "training", "metrics"):
            if not isinstance(data.get(key) or {}, dict):
                raise BadInputError(where, f'"{key}" must be an object')
        for key in ("weights", "onnx", "onnx_int8", "parent"):
            if data.get(key) is not None and not isinstance(data.get(key), str):
                raise BadInputError(where, f'"{key}" must be a string or null')
        for key in ("weights", "onnx", "onnx_int8"):
            _check_inside(data.get(key), key, where)
        if isinstance(classes, str) and classes.lower().endswith(".json"):
            _check_inside(classes, "classes", where)
        if data.get("weights") is None and data.get("onnx") is None:
            raise BadInputError(where, 'model card names neither "weights" nor "onnx"')
        return cls(
            name=str(data["name"]),
            architecture=str(data["architecture"]),
            num_classes=num,
            classes_spec=copy.deepcopy(classes),
            encoder=None if data.get("encoder") is None else str(data["encoder"]),
            arch_params=dict(data.get("arch_params") or {}),
            version=version,
            description=str(data.get("description") or ""),
            input=InputSpec.from_dict(data.get("input"), where),
            weights=data.get("weights"),
            onnx=data.get("onnx"),
            onnx_int8=data.get("onnx_int8"),
            provenance=dict(data.get("provenance") or {}),
            parent=data.get("parent"),
            training=dict(data.get("training") or {}),
            metrics=dict(data.get("metrics") or {}),
            extra={k: v for k, v in data.items() if k not in _KNOWN_KEYS},
            folder=folder,
        )

    @classmethod
    def load(cls, path: str | Path) -> ModelCard:
        """Load from a card folder or its model.json."""
        path = Path(path)
        json_path = path / CARD_FILE if path.is_dir() else path
        if not path.exists() and path.suffix.lower() != ".json":
            raise BadInputError(path, "model card not found (no such folder)")
        if json_path.suffix.lower() != ".json":
            raise BadInputError(path, "not a model card (expected a folder with model.json, or model.json)")
        return cls.from_dict(read_json(json_path, "model card"), json_path.parent.resolve())

    def save(self, folder: str | Path | None = None) -> Path:
        """Write model.json atomically into `folder` (default: the card's own); returns its path."""
        target = Path(folder) if folder is not None else self.folder
        if target is None:
            raise BadInputError(None, f"model card {self.name!r} has no folder to save into")
        path = atomic_write_json(Path(target) / CARD_FILE, self.to_dict())
        self.folder = Path(target).resolve()
        return path

    def with_changes(self, **changes: Any) -> ModelCard:
        """A copy with fields replaced (the class table is re-derived)."""
        return replace(self, **changes)


# --------------------------------------------------------------- discovery
def _check_inside(rel: Any, key: str, where: Path | None) -> None:
    """Refuse a card path that is absolute or climbs out of the card's folder.

    Cards are shared and downloaded; one whose weights are `../../x` or
    `/etc/x` would read (or, on export, write beside) files the user never
    handed over, so every file a card names must lie in its own folder.
    """
    if not isinstance(rel, str):
        return
    p = Path(rel)
    if rel.strip() == "" or p.is_absolute() or rel.startswith(("/", "\\")) or ".." in p.parts or (
            ".." in rel.replace("\\", "/").split("/")) or (len(rel) > 1 and rel[1] == ":"):
        raise BadInputError(where, f'"{key}" is {rel!r}: a model card may only name files inside its own '
                                   "folder (a plain relative path, no '..', not absolute)")


def _card_files(root: Path) -> list[Path]:
    """model.json files one or two folders below root (name/ or name/version/)."""
    if not root.is_dir():
        return []
    found = sorted(root.glob(f"*/{CARD_FILE}")) + sorted(root.glob(f"*/*/{CARD_FILE}"))
    return found


def find_models(dirs: list[Path] | None = None) -> tuple[list[ModelCard], list[BadInputError]]:
    """Every readable card in the search folders, plus the errors of unreadable ones.

    A broken card must not hide the others, so problems are returned rather
    than raised; `seggui models` prints them as warnings.
    """
    cards: list[ModelCard] = []
    problems: list[BadInputError] = []
    seen: set[Path] = set()
    for root in dirs if dirs is not None else model_search_dirs():
        for path in _card_files(Path(root)):
            real = path.resolve()
            if real in seen:
                continue
            seen.add(real)
            try:
                cards.append(ModelCard.load(path))
            except BadInputError as exc:
                problems.append(exc)
    return cards, problems


def resolve_model(ref: str | Path, dirs: list[Path] | None = None) -> ModelCard:
    """A card from a folder, a model.json, an .onnx file, a name or `name@version`.

    A bare name picks the highest version found; an .onnx file is read through
    the card embedded in its metadata (see `seggui.engine.export`).
    """
    text = str(ref)
    path = Path(text)
    if path.suffix.lower() == ".onnx":
        from seggui.engine.onnx_meta import card_from_onnx

        return card_from_onnx(path)
    if path.exists() or path.suffix.lower() == ".json" or "/" in text:
        return ModelCard.load(path)
    name, _, version = text.partition("@")
    cards, _problems = find_models(dirs)
    matches = [c for c in cards if c.name == name and (not version or str(c.version) == version)]
    if not matches:
        known = sorted({c.ref for c in cards})
        listing = ", ".join(known) if known else "none found"
        where = ", ".join(str(d) for d in (dirs if dirs is not None else model_search_dirs()))
        raise BadInputError(None, f"no model {text!r} (known models: {listing}; searched {where})")
    return max(matches, key=lambda c: c.version)
