"""The synthetic aerial parking generator: determinism, exact areas, looks, drives, CLI."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from seggui.cli import main
from seggui.core.classes import load_classes
from seggui.core.errors import BadInputError
from seggui.core.gsd import read_world_file
from seggui.core.masks import read_mask
from seggui.core.synth import (
    PARKING,
    ROAD,
    VEHICLE,
    render_drive,
    render_scene,
    to_parking_2,
    write_drive_video,
)
from seggui.core.synth.labels import BACKGROUND, parked_vehicles
from seggui.core.synth.plan import plan_layout
from seggui.core.synth.render import Canvas, car_outline, paint
from seggui.core.synth.scene import CLASS_NAMES, streams

SMALL = (192, 256)


def _digest(seed: int) -> str:
    s = render_scene(seed, SMALL, 0.15)
    return hashlib.sha256(s.image.tobytes() + s.mask.tobytes()).hexdigest()


def test_same_seed_gives_identical_pixels_in_this_and_another_process() -> None:
    a, b = render_scene(11, SMALL), render_scene(11, SMALL)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.mask, b.mask)
    assert a.parking_area_m2 == b.parking_area_m2
    code = ("import hashlib; from seggui.core.synth import render_scene as r; s = r(11, (192, 256), 0.15); "
            "print(hashlib.sha256(s.image.tobytes() + s.mask.tobytes()).hexdigest())")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == _digest(11)


def test_scenes_vary_in_pixels_layout_and_orientation() -> None:
    scenes = [render_scene(s, SMALL) for s in range(12)]
    assert not np.array_equal(scenes[0].image, scenes[1].image)
    assert not np.array_equal(scenes[0].mask, scenes[1].mask)
    angles = {s.meta["street_angle_deg"] for s in scenes}
    assert len(angles) >= 6
    assert any(a in (0.0, 90.0) for a in angles), "some scenes are axis-aligned"
    assert any(a % 90 > 5 for a in angles), "some scenes are rotated"
    areas = [s.parking_area_m2 for s in scenes]
    assert max(areas) > 1.5 * min(areas)
    lot_angles = {lot["angle_deg"] for s in scenes for lot in s.meta["lots"]}
    stall_widths = {lot["stall_width_m"] for s in scenes for lot in s.meta["lots"]}
    assert len(lot_angles) >= 6 and len(stall_widths) >= 6


def test_reported_area_is_the_parking_2_pixel_count_times_gsd_squared() -> None:
    for seed, gsd in ((3, 0.15), (4, 0.3)):
        s = render_scene(seed, SMALL, gsd)
        p2 = to_parking_2(s.mask)
        assert set(np.unique(p2)) <= {0, 1}
        assert s.parking_area_m2 == int(p2.sum()) * (gsd * gsd)
        # parking-2 = the parking class plus the parked cars, nothing else
        assert int(p2.sum()) == int((s.mask == PARKING).sum()) + int(parked_vehicles(s.mask).sum())
        assert np.array_equal(s.parking_mask, p2)


def test_labelling_rule_recovers_exactly_the_cars_standing_on_lots() -> None:
    """Rasterise the planned lot cars; the rule must find those vehicle pixels and no others.

    Coarse pixels make cars touch each other and the picture's edge cuts them:
    seeds 44 and 56 at 0.3 m/px once split a parking pixel between two cars.
    """
    unparked = 0
    cases = [(seed, 320, 0.15) for seed in range(5)] + [(44, 256, 0.3), (56, 256, 0.3), (3, 256, 0.075)]
    for seed, h, gsd in cases:
        layout_rng, paint_rng = streams(seed, 2)
        w = h
        lay = plan_layout(layout_rng, w * gsd, h * gsd)
        _, mask = paint(lay, h, w, gsd, paint_rng)
        canvas = Canvas(h, w, gsd)
        truth = np.zeros((h, w), np.uint8)
        for car in lay.cars:
            if car.where == "lot":
                cv2.fillPoly(truth, [canvas.px(car_outline(car))], 1, cv2.LINE_8, 3)
        parked = parked_vehicles(mask)
        visible_lot_cars = (mask == VEHICLE) & (truth == 1)
        assert np.array_equal(parked, visible_lot_cars), seed
        unparked += int(((mask == VEHICLE) & ~parked).sum())
    assert unparked > 1000, "road and driveway cars exercise the other side of the rule"


def test_rule_on_a_hand_made_mask() -> None:
    m = np.full((40, 60), BACKGROUND, np.uint8)
    m[:, :30] = PARKING
    m[:, 40:] = ROAD
    m[5:10, 5:15] = VEHICLE  # inside the lot
    m[20:25, 25:35] = VEHICLE  # straddles lot and the ground between
    m[5:10, 45:55] = VEHICLE  # on the road
    m[30:35, 28:42] = VEHICLE  # touches lot and road
    m[30:35, 32:38] = VEHICLE
    p2 = to_parking_2(m)
    assert p2[5:10, 5:15].all() and p2[20:25, 25:35].all()
    assert not p2[5:10, 45:55].any() and not p2[30:35, 30:42].any()
    assert p2[:, :30][m[:, :30] == PARKING].all()


def test_default_scenes_hold_every_class_at_reasonable_shares() -> None:
    shares = np.array([[s.meta["class_share"][n] for n in CLASS_NAMES]
                       for s in (render_scene(seed) for seed in range(8))])
    assert ((shares[:, PARKING] > 0.05) & (shares[:, PARKING] < 0.6)).all(), shares[:, PARKING]
    assert (shares > 0).sum(axis=0).min() >= 5, "each class appears in most scenes"
    assert (shares.mean(axis=0) > 0.02).all(), shares.mean(axis=0)
    assert (shares[:, VEHICLE] > 0).all()


def _median_car_pixels(gsd: float) -> float:
    sizes = []
    for seed in range(3):
        s = render_scene(seed, (384, 384), gsd)
        n, _, stats, _ = cv2.connectedComponentsWithStats((s.mask == VEHICLE).astype(np.uint8), 8)
        sizes += [a for a in stats[1:, cv2.CC_STAT_AREA] if a > 4]
    return float(np.median(sizes))


def test_half_the_gsd_doubles_the_size_of_things_in_pixels() -> None:
    ratio = np.sqrt(_median_car_pixels(0.075) / _median_car_pixels(0.15))
    assert 1.7 < ratio < 2.3, ratio
    # a car is about 1.8 x 4.5 m: at 0.15 m/px that is about 12 x 30 px
    assert 200 < _median_car_pixels(0.15) < 600


def test_drive_frames_overlap_and_move_at_the_given_speed() -> None:
    d = render_drive(5, 8, frame_size=(160, 224), gsd=0.15, speed_px=6.0)
    assert len(d.frames) == 8 and all(f.image.shape == (160, 224, 3) for f in d.frames)
    for k in range(7):
        a = cv2.cvtColor(d.frames[k].image, cv2.COLOR_RGB2GRAY).astype(np.float32)
        b = cv2.cvtColor(d.frames[k + 1].image, cv2.COLOR_RGB2GRAY).astype(np.float32)
        (sx, sy), response = cv2.phaseCorrelate(a, b)
        step = np.subtract(d.offsets[k + 1], d.offsets[k])
        assert response > 0.3
        assert abs(sx + step[0]) < 1.0 and abs(sy + step[1]) < 1.0, ((sx, sy), step)
        assert abs(np.hypot(sx, sy) - 6.0) < 1.5
    for f, (x, y) in zip(d.frames, d.offsets, strict=True):  # masks are crops of the world's
        assert np.array_equal(f.mask, d.world.mask[y:y + 160, x:x + 224])
        assert f.parking_area_m2 == int(to_parking_2(f.mask).sum()) * (0.15 * 0.15)


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_drive_video_round_trips(tmp_path: Path, suffix: str) -> None:
    d = render_drive(2, 6, frame_size=(96, 128), speed_px=5.0)
    path = write_drive_video(tmp_path / f"drive{suffix}", d.frames, fps=8)
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened()
    assert (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))) == (128, 96)
    decoded = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        decoded.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    assert len(decoded) == 6
    err = np.mean([np.abs(a.astype(int) - f.image.astype(int)).mean() for a, f in zip(decoded, d.frames,
                                                                                       strict=True)])
    assert err < 20, err
    assert [p.name for p in tmp_path.iterdir()] == [f"drive{suffix}"]  # no temp file left
    from seggui.core.atomic import plain_file_mode

    assert path.stat().st_mode & 0o777 == plain_file_mode()  # not mkstemp's 0600: others may read it


def test_video_writer_refuses_bad_input(tmp_path: Path) -> None:
    frame = np.zeros((32, 48, 3), np.uint8)
    with pytest.raises(BadInputError, match="suffix"):
        write_drive_video(tmp_path / "v.mkv", [frame])
    with pytest.raises(BadInputError, match="frame 1"):
        write_drive_video(tmp_path / "v.mp4", [frame, np.zeros((30, 48, 3), np.uint8)])
    with pytest.raises(BadInputError, match="no frames"):
        write_drive_video(tmp_path / "v.mp4", [])
    assert not any(tmp_path.iterdir())


def test_bad_arguments_are_reported() -> None:
    with pytest.raises(BadInputError):
        render_scene(-1)
    with pytest.raises(BadInputError):
        render_scene(1, (8, 8))
    with pytest.raises(BadInputError):
        render_scene(1, SMALL, 0.0)
    with pytest.raises(BadInputError):
        render_drive(1, 0)


def test_class_table_preset_matches_the_generator() -> None:
    t = load_classes("aerial-parking-6")
    assert t.ids == list(range(6)) and tuple(t.names) == CLASS_NAMES
    p2 = load_classes("parking-2")
    assert t.by_id[PARKING].color == p2.by_id[1].color


def test_cli_writes_what_it_says(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "synth"
    rc = main(["synth", "--out", str(out), "--count", "2", "--size", "160x128", "--gsd", "0.2",
               "--seed", "40", "--drive-frames", "3", "--quiet"])
    assert rc == 0
    assert "wrote 2 scenes" in capsys.readouterr().out
    index = json.loads((out / "scenes.json").read_text())
    assert [s["seed"] for s in index["scenes"]] == [40, 41]
    for s in index["scenes"]:
        image = cv2.imread(str(out / s["image"]))
        assert image.shape == (128, 160, 3)
        mask = read_mask(out / s["mask"], load_classes("aerial-parking-6"))
        p2 = read_mask(out / s["parking_mask"], load_classes("parking-2"))
        assert np.array_equal(p2, to_parking_2(mask))
        gsd = read_world_file(out / s["world_file"])  # the project's own GSD reader
        assert s["parking_area_m2"] == int(p2.sum()) * gsd.m2_per_px and s["gsd_m"] == 0.2
        assert np.array_equal(mask, render_scene(s["seed"], (128, 160), 0.2).mask)
        world = [float(v) for v in (out / s["world_file"]).read_text().split()]
        assert len(world) == 6 and world[:4] == [0.2, 0.0, 0.0, -0.2]
    drive = index["drive"]
    cap = cv2.VideoCapture(str(out / drive["video"]))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 3
    cap.release()
    assert len(list((out / drive["masks"]).glob("*.png"))) == 3
    assert len(drive["parking_area_m2"]) == 3
    rc = main(["synth", "--out", str(tmp_path / "b"), "--count", "1", "--size", "64", "96", "--quiet"])
    assert rc == 0 and cv2.imread(str(tmp_path / "b" / "images" / "scene_0000.png")).shape == (64, 96, 3)
    assert main(["synth", "--out", str(tmp_path / "c"), "--size", "big", "--quiet"]) == 2
