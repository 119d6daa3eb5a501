"""`seggui rank`: the uncorrected predictions, most uncertain first, from their confidence files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from seggui.cli import main
from seggui.core.images import write_image
from seggui.core.workspace import Workspace


def test_rank_orders_by_the_share_of_unsure_pixels(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    ws = Workspace.create(tmp_path / "ws", "parking-2")
    names = ("sure", "unsure", "half", "done")
    pics = [write_image(tmp_path / f"{n}.png", np.zeros((4, 5, 3), np.uint8)) for n in names]
    ws.add_images(pics)
    labels = np.zeros((4, 5), np.uint8)
    conf = {"sure": 250, "unsure": 40, "half": None, "done": 10}
    for fid, value in conf.items():
        c = np.full((4, 5), 250 if value is None else value, np.uint8)
        if value is None:
            c[:2] = 40  # half the pixels unsure
        ws.write_prediction(fid, labels, c)
    ws.write_mask("done", "corrected", labels)  # the analyst fixed it: not to do again
    assert main(["rank", str(ws.root), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["frame"] for r in out["ranked"]] == ["unsure", "half", "sure"]
    assert out["ranked"][1]["low_confidence_share"] == 0.5
    assert main(["rank", str(ws.root), "--json", "--all", "--top", "1"]) == 0
    assert [r["frame"] for r in json.loads(capsys.readouterr().out)["ranked"]] == ["done"]
