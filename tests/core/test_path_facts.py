"""Opening many pictures asks the disk once per folder, with the same answers as asking each time."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from seggui.core.errors import BadInputError
from seggui.core.images import write_image
from seggui.core.masks import write_mask
from seggui.core.path_facts import PathFacts
from seggui.core.workspace import FrameStatus, Workspace


def test_answers_equal_the_plain_calls(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "a.png").write_bytes(b"x")
    (tmp_path / "via").symlink_to(real)
    (real / "link.png").symlink_to(real / "a.png")
    facts = PathFacts()
    for p in (tmp_path / "via" / "a.png", real / "link.png", tmp_path / "via" / "." / "a.png"):
        assert facts.resolve(p) == p.resolve()
    assert facts.has_file(real, "a.png") is True and facts.has_file(real, "b.png") is False
    assert facts.has_file(real, "link.png") is None  # a link: the caller looks closer
    assert facts.has_file(tmp_path / "via", "a.png") is None  # the folder is a link
    assert facts.has_file(tmp_path / "missing", "a.png") is False


def _pictures(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True)
    out = []
    for i in range(n):
        out.append(folder / f"p{i}.png")
        write_image(out[-1], np.zeros((4, 4, 3), np.uint8))
    return out


def test_adding_pictures_finds_their_masks_as_before(tmp_path: Path) -> None:
    pics = _pictures(tmp_path / "pics", 4)
    ws = Workspace.create(tmp_path / "ws", "parking-2")
    write_mask(ws.root / "ground_truth" / "p1.png", np.zeros((4, 4), np.uint8))
    write_mask(ws.root / "predicted" / "p2.png", np.zeros((4, 4), np.uint8))
    recs = ws.add_images(pics)
    assert [r.has_gt for r in recs] == [False, True, False, False]
    assert [r.status for r in recs] == [FrameStatus.NONE, FrameStatus.NONE, FrameStatus.PREDICTED,
                                        FrameStatus.NONE]
    assert recs[0].image == str(pics[0].resolve())


@pytest.mark.skipif(os.name == "nt", reason="symbolic links")
def test_a_mask_linked_outside_the_workspace_is_still_refused(tmp_path: Path) -> None:
    pics = _pictures(tmp_path / "pics", 1)
    ws = Workspace.create(tmp_path / "ws", "parking-2")
    outside = tmp_path / "elsewhere.png"
    write_mask(outside, np.zeros((4, 4), np.uint8))
    (ws.root / "ground_truth").mkdir()
    (ws.root / "ground_truth" / "p0.png").symlink_to(outside)
    with pytest.raises(BadInputError, match="outside"):
        ws.add_images(pics)
