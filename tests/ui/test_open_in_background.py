"""Opening a big folder runs on a worker thread: the window keeps answering while it reads the files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QTimer


def test_the_window_answers_while_a_big_folder_opens(qtbot, window, tmp_path: Path) -> None:
    folder = tmp_path / "survey"
    folder.mkdir()
    png = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes()
    for i in range(3000):  # separate pictures (not a numbered drive)
        (folder / f"shot_{i:05d}_{'abcdefghij'[i % 10]}.png").write_bytes(png)
    ticks: list[int] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    assert window.open_path(folder, pictures=True)
    timer.stop()
    assert len(window.session.frame_ids) == 3000
    assert len(ticks) >= 3, "the event loop did not run while the folder opened"
    # one opening at a time: a second request while one runs is refused with a message, not nested
    window._opening = str(folder)
    assert not window.open_path(folder)
    assert any("is still opening" in m.text for m in window.log.entries)
