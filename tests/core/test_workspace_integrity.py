"""Issue 16, findings 1 and 9: hostile frame ids and wrongly typed seggui.json are refused by name.

A workspace file is input (workspaces are shared): an id like ``../../x`` must
never make a mask land outside the workspace, and JSON of the wrong shape
must give one BadInputError naming the file and the key, never a traceback,
and never a change to the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seggui.core.errors import BadInputError
from seggui.core.frame_ids import check_frame_id, frame_id_problem
from seggui.core.images import write_image
from seggui.core.workspace import FrameRecord, Workspace

MASK = np.zeros((4, 6), np.uint8)


def _workspace(root: Path) -> Workspace:
    ws = Workspace.create(root, "camvid-11")
    pic = write_image(root / "images" / "a.png", np.zeros((4, 6, 3), np.uint8))
    ws.add_images([pic])
    return ws


def _edit(root: Path, change: Any) -> bytes:
    path = root / "seggui.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return path.read_bytes()


@pytest.mark.parametrize("bad", ["../../x", "/tmp/x", "a/b", "a\\b", "..", "", " ", "a\x00b", "tab\there",
                                 "x" * 300])
def test_a_hostile_frame_id_in_the_file_is_refused_by_name(tmp_path: Path, bad: str) -> None:
    root = tmp_path / "deep" / "ws"
    _workspace(root)
    before = _edit(root, lambda d: d["frames"].__setitem__(bad, {"image": "images/a.png"}))
    with pytest.raises(BadInputError) as err:
        Workspace.open(root)
    assert err.value.path == root / "seggui.json"
    assert "frame id" in err.value.problem
    assert (root / "seggui.json").read_bytes() == before  # the file is left for the analyst to mend


def test_no_mask_is_written_outside_the_workspace(tmp_path: Path) -> None:
    """The one function that makes mask paths refuses ids that got in by another way."""
    root = tmp_path / "deep" / "ws"
    ws = _workspace(root)
    outside = tmp_path / "outside"
    for bad in ("../../x", str(outside / "abs")):
        ws.frames[bad] = FrameRecord(bad, image="images/a.png")  # as a bypassed open would leave it
        with pytest.raises(BadInputError, match="frame id"):
            ws.write_mask(bad, "predicted", MASK)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep"]
    assert sorted(p.name for p in (tmp_path / "deep").iterdir()) == ["ws"]


@pytest.mark.skipif(os.name == "nt", reason="symbolic links need privileges on Windows")
def test_a_planted_symbolic_link_cannot_send_masks_elsewhere(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    ws = _workspace(root)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / "predicted").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(BadInputError, match="outside the workspace"):
        ws.write_mask("a", "predicted", MASK)
    (root / "corrected").mkdir()
    (root / "corrected" / "a.png").symlink_to(elsewhere / "a.png")
    with pytest.raises(BadInputError, match="outside the workspace"):
        ws.write_mask("a", "corrected", MASK)
    assert list(elsewhere.iterdir()) == []


def test_ids_are_checked_where_frames_are_added(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws")
    pic = ws.image_path("a")
    with pytest.raises(BadInputError, match="path separator"):
        ws.add_image(pic, frame_id="../b")
    with pytest.raises(BadInputError, match="frame id"):
        ws.add_video_frames(tmp_path / "drive.mp4", ["drive_000000", "../../drive_000001"])
    with pytest.raises(BadInputError, match="frame id"):
        ws.add_sequence_frames(tmp_path / "ws" / "images", "*.png", [pic], ["/abs"])
    assert list(ws.frames) == ["a"]  # nothing half added


def test_plain_ids_pass() -> None:
    for ok in ("aerial_01", "0016E5_07959", "drive 12:30:00", "été", "a.b..c", ".hidden"):
        if os.name == "nt" and ":" in ok:
            continue
        assert frame_id_problem(ok) is None
        assert check_frame_id(ok, None) == ok


WRONG_TYPES = [
    (lambda d: d["frames"].__setitem__("a", "images/a.png"), "frames['a'] must be an object"),
    (lambda d: d.__setitem__("settings", ["x"]), "settings must be an object"),
    (lambda d: d["frames"]["a"].__setitem__("image", 3), "frames['a'].image must be text"),
    (lambda d: d["frames"]["a"].__setitem__("index", "7"), "frames['a'].index"),
    (lambda d: d["frames"]["a"].__setitem__("has_gt", "yes"), "has_gt"),
    (lambda d: d.__setitem__("frames", ["a"]), "frames must be an object"),
    (lambda d: d.__setitem__("classes", 11), "classes must be"),
    (lambda d: d.__setitem__("model", {"n": 1}), "model must be text"),
    (lambda d: d.__setitem__("gsd", "0.1"), "gsd must be an object"),
    (lambda d: d["settings"].__setitem__("model_versions", [{"ref": 1}]), "model_versions[0].ref"),
    (lambda d: d["settings"].__setitem__("drive_fps", {"d": "fast"}), "settings.drive_fps"),
    (lambda d: d["settings"].__setitem__("retrain", {"epochs": "ten"}), "settings.retrain.epochs"),
    (lambda d: d["settings"].__setitem__("retrain", [4]), "settings.retrain must be an object"),
]


@pytest.mark.parametrize(("change", "named"), WRONG_TYPES)
def test_wrong_types_name_the_key_and_the_file(tmp_path: Path, change: Any, named: str) -> None:
    root = tmp_path / "ws"
    _workspace(root)
    before = _edit(root, change)
    with pytest.raises(BadInputError) as err:
        Workspace.open(root)
    assert err.value.path == root / "seggui.json"
    assert named in err.value.problem
    assert (root / "seggui.json").read_bytes() == before


# ------------------------------------------------------------------ fuzzing
_scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False) | st.text(max_size=8)
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)
_ids = (st.sampled_from(["a", "b", "../../x", "../escape", "/ABS/x", "", "..", "c\nd", "e\\f"])
        | st.text(max_size=6))
_frame = st.fixed_dictionaries({}, optional={
    "image": st.sampled_from(["images/a.png", "/ABS/a.png", "../a.png"]) | _scalars,
    "source": _scalars, "index": _scalars,
    "status": st.sampled_from(["none", "predicted", "reviewed"]) | _scalars,
    "has_gt": _scalars, "model": _scalars, "pattern": _scalars,
}) | _json
_doc = st.fixed_dictionaries(
    {"format": st.just("seggui-workspace/1")},
    optional={"classes": st.just("camvid-11") | _json, "model": _scalars, "gsd": _json,
              "settings": st.dictionaries(st.sampled_from(["model_versions", "drive_fps", "retrain", "x"]),
                                          _json, max_size=3) | _json,
              "class_map": st.none() | _json,
              "frames": st.dictionaries(_ids, _frame, max_size=4) | _json},
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=_doc)
def test_fuzzed_workspace_files_open_cleanly_or_say_why(tmp_path_factory: pytest.TempPathFactory,
                                                        doc: dict[str, Any]) -> None:
    """Either a workspace that works (masks and saves stay inside it) or one BadInputError."""
    top = tmp_path_factory.mktemp("fuzz")
    root = top / "deep" / "ws"
    root.mkdir(parents=True)
    write_image(root / "images" / "a.png", np.zeros((4, 6, 3), np.uint8))
    text = json.dumps(doc).replace("/ABS", str(top / "outside"))
    (root / "seggui.json").write_text(text)
    try:
        ws = Workspace.open(root)
    except BadInputError as exc:
        assert exc.path is not None
        assert (root / "seggui.json").read_text() == text  # refused files are never rewritten
    else:
        for fid in list(ws.frames):
            ws.image_path(fid)
            ws.source_path(fid)
            ws.write_mask(fid, "predicted", MASK, save=False)
            assert ws.read_mask(fid, "predicted") is not None
            ws.set_status(fid, "reviewed")
        ws.save()
        assert Workspace.open(root).frames.keys() == ws.frames.keys()
    assert sorted(p.name for p in top.rglob("*") if root not in p.parents and p != root) == ["deep"]


def test_the_commands_refuse_a_hostile_workspace_in_one_line(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """`seggui demo --headless` on a shared workspace used to predict into ../../x.png; report crashed."""
    from seggui.cli import main

    root = tmp_path / "deep" / "ws"
    _workspace(root)
    _edit(root, lambda d: d["frames"].__setitem__("../../x", {"image": "images/a.png"}))
    assert main(["demo", "--headless", "--out", str(root)]) == 2
    err = capsys.readouterr().err
    assert "seggui.json" in err and "'../../x'" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep"]
    _edit(root, lambda d: (d["frames"].pop("../../x"), d.__setitem__("settings", ["x"])))
    assert main(["report", str(root), "--format", "json", "--out", str(tmp_path / "deep" / "r.json")]) == 2
    err = capsys.readouterr().err
    assert "settings must be an object" in err and "Traceback" not in err
