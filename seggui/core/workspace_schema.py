"""Check the shape of a seggui.json before anything reads it.

A workspace file may have been edited by hand, merged by a sync tool or made
by someone else to cause harm: JSON that parses can still hold a frame that
is a string, settings that are a list or a picture path that is a number.
Left to the readers, those surface as AttributeError or TypeError far from
the file (in a report, in the window's open). `check_workspace` names the
key and the file in one BadInputError instead, and never writes: the file
stays as it is for the analyst to mend. Frame ids are checked too
(seggui.core.frame_ids): they become file names.

The class table, GSD and class map are checked by their own readers; this
module only makes sure each is of the kind they expect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from seggui.core.classes import ClassTable, load_classes
from seggui.core.errors import BadInputError
from seggui.core.frame_ids import frame_id_problem

# "propagated" came later: files written before it hold the first four and still open
STATUSES = ("none", "predicted", "corrected", "reviewed", "propagated")
_TEXT_FIELDS = ("image", "source", "model", "pattern")
_TEXT_SETTINGS = ("opened_from", "open_as", "name")
# the window's Advanced retrain settings (seggui.ui.retrain_dialog): key -> (accepts, what it must be)
_RETRAIN_SETTINGS: dict[str, tuple[Any, str]] = {
    "epochs": (lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0), "a count"),
    "batch": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1, "a positive count"),
    "lr": (lambda v: _is_number(v) and v > 0, "a positive number"),
    "base_share": (lambda v: _is_number(v), "a number"),
    "base": (lambda v: v is None or (isinstance(v, str) and "\x00" not in v), "a folder or null"),
    "base_layout": (lambda v: isinstance(v, str), "text"),
}
_NUMBER_MAPS = ("drive_fps", "true_parking_m2")
_VERSION_TEXT = ("ref", "label", "card")


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__)


def _text(value: Any, key: str, optional: bool = True) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        return f"{key} must be text, not {_kind(value)}"
    if "\x00" in value:
        return f"{key} holds a NUL character"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _frame_problem(fid: str, rec: Any) -> str | None:
    key = f"frames[{fid!r}]"
    problem = frame_id_problem(fid)
    if problem is not None:
        return f"{problem}; frame ids must be plain file names"
    if not isinstance(rec, dict):
        return f"{key} must be an object, not {_kind(rec)}"
    for name in _TEXT_FIELDS:
        problem = _text(rec.get(name), f"{key}.{name}")
        if problem:
            return problem
    index = rec.get("index")
    if index is not None and (not isinstance(index, int) or isinstance(index, bool) or index < 0):
        return f"{key}.index must be a frame number (0 or more), not {index!r}"
    status = rec.get("status", "none")
    if status not in STATUSES:
        return f"frame {fid!r} has unknown status {status!r} (one of {', '.join(STATUSES)})"
    if rec.get("has_gt") is not None and not isinstance(rec.get("has_gt"), bool):
        return f"{key}.has_gt must be true or false, not {rec.get('has_gt')!r}"
    return None


def _settings_problem(settings: Any) -> str | None:
    if not isinstance(settings, dict):
        return f"settings must be an object, not {_kind(settings)}"
    for name in _TEXT_SETTINGS:
        problem = _text(settings.get(name), f"settings.{name}")
        if problem:
            return problem
    parking = settings.get("parking_class")
    if parking is not None and (not isinstance(parking, str | int) or isinstance(parking, bool)):
        return f"settings.parking_class must be a class name or id, not {_kind(parking)}"
    for name in _NUMBER_MAPS:
        value = settings.get(name)
        if value is None:
            continue
        if not isinstance(value, dict) or not all(_is_number(v) for v in value.values()):
            return f"settings.{name} must map names to numbers"
    retrain = settings.get("retrain")
    if retrain is not None:
        if not isinstance(retrain, dict):
            return f"settings.retrain must be an object, not {_kind(retrain)}"
        for name, (ok, what) in _RETRAIN_SETTINGS.items():
            if name in retrain and not ok(retrain[name]):
                return f"settings.retrain.{name} must be {what}, not {retrain[name]!r}"
    versions = settings.get("model_versions")
    if versions is not None:
        if not isinstance(versions, list):
            return f"settings.model_versions must be a list, not {_kind(versions)}"
        for i, v in enumerate(versions):
            if not isinstance(v, dict):
                return f"settings.model_versions[{i}] must be an object, not {_kind(v)}"
            for name in _VERSION_TEXT:
                problem = _text(v.get(name), f"settings.model_versions[{i}].{name}", optional=False)
                if problem:
                    return problem
            problem = _text(v.get("parent"), f"settings.model_versions[{i}].parent")
            if problem:
                return problem
    return None


def schema_problem(data: Any) -> str | None:
    """What is wrong with the shape of a parsed seggui.json (the first problem found), or None."""
    if not isinstance(data, dict):
        return f"the file must hold an object, not {_kind(data)}"
    classes = data.get("classes")
    if not isinstance(classes, dict | str):
        return f"classes must be a class table (object) or a preset name, not {_kind(classes)}"
    problem = _text(data.get("model"), "model")
    if problem:
        return problem
    for name in ("gsd", "class_map"):
        value = data.get(name)
        if value is not None and not isinstance(value, dict):
            return f"{name} must be an object, not {_kind(value)}"
    if data.get("settings") is not None:
        problem = _settings_problem(data["settings"])
        if problem:
            return problem
    frames = data.get("frames")
    if frames is None:
        return None
    if not isinstance(frames, dict):
        return f"frames must be an object keyed by frame id, not {_kind(frames)}"
    for fid, rec in frames.items():
        problem = _frame_problem(fid, rec)
        if problem:
            return problem
    return None


def check_workspace(data: Any, path: str | Path) -> dict[str, Any]:
    """`data` when its shape is a workspace's, else BadInputError naming `path` and the key."""
    problem = schema_problem(data)
    if problem is not None:
        raise BadInputError(path, problem)
    return cast(dict[str, Any], data)


def workspace_classes(value: dict[str, Any] | str, path: str | Path) -> ClassTable:
    """The class table a workspace file names (inline, preset or file); errors name the workspace file."""
    if isinstance(value, dict):
        return ClassTable.from_dict(value, path)
    try:
        return load_classes(value)
    except BadInputError as exc:
        if exc.path is None:
            raise BadInputError(path, f"classes: {exc.problem}") from None
        raise
