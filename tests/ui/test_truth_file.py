"""File ▸ Ground truth of this picture: one mask file of any name, through the real file dialog."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from journey import trigger, type_path_and_enter, when_dialog  # noqa: E402
from PySide6.QtWidgets import QFileDialog  # noqa: E402

from seggui.core.masks import read_mask  # noqa: E402


def test_one_mask_of_any_name_becomes_the_ground_truth_of_the_picture_on_show(window, camvid: Path,
                                                                              tmp_path: Path) -> None:
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    names = sorted(p.name for p in (camvid / "val").glob("*.png"))[:2]
    for name in names:
        (pictures / name).symlink_to(camvid / "val" / name)  # no masks beside them
    assert window.open_path(pictures)
    s = window.session
    s.set_frame(Path(names[1]).stem)
    assert not s.record(s.current).has_gt
    mask = tmp_path / "delivered" / "truth of the second picture.png"
    mask.parent.mkdir()
    shutil.copy(camvid / "valannot" / names[1], mask)
    answered = when_dialog(type_path_and_enter(mask), QFileDialog)
    trigger(window, "open_gt_file")
    assert answered == ["answered"]
    assert s.record(s.current).has_gt and not s.record(Path(names[0]).stem).has_gt
    assert np.array_equal(s.mask("ground_truth"), read_mask(camvid / "valannot" / names[1], s.classes))
