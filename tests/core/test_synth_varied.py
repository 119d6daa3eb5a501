"""The generator's "varied" style (domain randomisation): seeded, exact labels, a wide look, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from seggui.cli import main
from seggui.core.classes import load_classes
from seggui.core.errors import BadInputError
from seggui.core.gsd import read_world_file
from seggui.core.masks import read_mask
from seggui.core.synth import PARKING, ROAD, render_scene, to_parking_2
from seggui.core.synth.varied import draw_gsd

SMALL = (192, 256)


def test_varied_scenes_are_seeded_and_not_the_default_look() -> None:
    a, b = render_scene(5, SMALL, 0.12, "varied"), render_scene(5, SMALL, 0.12, "varied")
    assert np.array_equal(a.image, b.image) and np.array_equal(a.mask, b.mask)
    assert a.meta["style"] == "varied" and "style" not in render_scene(5, SMALL, 0.12).meta
    assert not np.array_equal(a.image, render_scene(5, SMALL, 0.12).image)
    assert not np.array_equal(a.image, render_scene(6, SMALL, 0.12, "varied").image)
    with pytest.raises(BadInputError, match="unknown synth style"):
        render_scene(5, SMALL, 0.12, "wild")


def test_varied_labels_keep_the_parking_rule_and_exact_area() -> None:
    for seed in range(4):
        s = render_scene(seed, SMALL, 0.1, "varied")
        p2 = to_parking_2(s.mask)
        assert s.parking_area_m2 == pytest.approx(int(p2.sum()) * 0.1 ** 2)
        assert set(np.unique(s.mask)) <= set(range(6))


def test_fine_gsd_scenes_still_show_lots_and_the_look_varies_widely() -> None:
    """At 0.06 m/px a picture covers 15 m: the view is chosen on a lot in most scenes.

    Across scenes the lot surface ranges from dark asphalt to pale concrete, some
    lots stand empty, and some roads are brighter than the lot beside them
    (colour alone must not tell a lot from a street).
    """
    lot_means, road_brighter, empty_lot, with_parking = [], 0, 0, 0
    for seed in range(16):
        s = render_scene(seed, SMALL, 0.06, "varied")
        lot = s.mask == PARKING
        if lot.mean() > 0.05:
            with_parking += 1
            lot_means.append(float(s.image[lot].mean()))
        big = render_scene(seed, (128, 128), 0.3, "varied")
        lot, road = big.mask == PARKING, big.mask == ROAD
        if big.meta["cars"]["lot"] == 0 and lot.mean() > 0.05:
            empty_lot += 1
        if lot.mean() > 0.03 and road.mean() > 0.03 and big.image[road].mean() > big.image[lot].mean():
            road_brighter += 1
    assert with_parking >= 10, with_parking
    assert max(lot_means) - min(lot_means) > 80, lot_means
    assert road_brighter >= 1 and empty_lot >= 1, (road_brighter, empty_lot)


def test_gsd_is_drawn_per_scene_within_the_range() -> None:
    values = [draw_gsd(s, 0.05, 0.3) for s in range(50)]
    assert all(0.05 <= v <= 0.3 for v in values) and min(values) < 0.08 and max(values) > 0.2
    assert draw_gsd(7, 0.05, 0.3) == draw_gsd(7, 0.05, 0.3)
    with pytest.raises(BadInputError, match="gsd-range"):
        draw_gsd(1, 0.3, 0.05)


def test_cli_varied_style_and_gsd_range(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "v"
    rc = main(["synth", "--out", str(out), "--count", "3", "--size", "96x80", "--seed", "70",
               "--style", "varied", "--gsd-range", "0.05", "0.3", "--quiet"])
    assert rc == 0 and "wrote 3 scenes (varied style)" in capsys.readouterr().out
    index = json.loads((out / "scenes.json").read_text())
    assert index["style"] == "varied" and index["gsd_range"] == [0.05, 0.3]
    for s in index["scenes"]:
        gsd = read_world_file(out / s["world_file"])
        assert s["gsd_m"] == draw_gsd(s["seed"], 0.05, 0.3) == pytest.approx(gsd.m_per_px)
        p2 = read_mask(out / s["parking_mask"], load_classes("parking-2"))
        assert s["parking_area_m2"] == pytest.approx(int(p2.sum()) * s["gsd_m"] ** 2)
        again = render_scene(s["seed"], (80, 96), s["gsd_m"], "varied")
        assert np.array_equal(read_mask(out / s["mask"], load_classes("aerial-parking-6")), again.mask)
    assert main(["synth", "--out", str(tmp_path / "bad"), "--gsd-range", "0.3", "0.05", "--quiet"]) == 2
    assert not (tmp_path / "bad").exists()
