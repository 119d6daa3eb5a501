"""Issue 16, findings 1 and 9 in the window: a hostile or wrongly typed seggui.json is one message.

`open_path` catches the project's own errors only; a frame that is a string
or settings that are a list used to escape it as AttributeError/TypeError.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from seggui.core.images import write_image
from seggui.core.workspace import Workspace


@pytest.mark.parametrize(("change", "named"), [
    (lambda d: d["frames"].__setitem__("a", "images/a.png"), "frames['a'] must be an object"),
    (lambda d: d.__setitem__("settings", ["x"]), "settings must be an object"),
    (lambda d: d["frames"].__setitem__("../../x", {"image": "images/a.png"}), "'../../x'"),
])
def test_a_bad_workspace_file_is_a_message_and_is_left_alone(window, tmp_path: Path, change,  # noqa: ANN001
                                                             named: str) -> None:
    share = tmp_path / "share"
    root = share / "deep" / "ws"
    ws = Workspace.create(root, "camvid-11")
    ws.add_images([write_image(root / "images" / "a.png", np.zeros((8, 8, 3), np.uint8))])
    data = json.loads((root / "seggui.json").read_text())
    change(data)
    (root / "seggui.json").write_text(json.dumps(data))
    before = (root / "seggui.json").read_bytes()
    window.open_path(root / "seggui.json")
    errors = [e.text for e in window.log.entries if e.level == "error"]
    assert any("seggui.json" in t and named in t for t in errors), errors
    assert (root / "seggui.json").read_bytes() == before
    assert sorted(p.name for p in share.iterdir()) == ["deep"]
    assert window.isVisible()
