"""Areas per class and per region; the incremental counter; the folder job."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seggui.core.area import AreaCounter, area_per_class, count_regions, find_regions, measure_masks
from seggui.core.classes import ClassTable, load_classes
from seggui.core.errors import BadInputError, Cancelled
from seggui.core.gsd import Gsd
from seggui.core.jobs import CancelToken, run_job
from seggui.core.masks import write_mask

TABLE = ClassTable.from_dict({"name": "lot", "ignore_index": 255, "classes": [
    {"id": 0, "name": "ground", "color": [0, 0, 0]},
    {"id": 1, "name": "parking", "color": [255, 200, 0]},
    {"id": 2, "name": "road", "color": [128, 64, 128]}]})

# The Houston UAV GSD is not published. The masks are a 4x downscale of the
# drone pictures; we assume 5 cm/px for those, so 0.2 m/px for the masks.
HOUSTON_GSD_M = 0.2
PARKING = 18


def _mask() -> np.ndarray:
    m = np.zeros((6, 8), np.uint8)
    m[0:2, 0:3] = 1      # 6 px parking
    m[5, 7] = 1          # 1 px parking, its own region
    m[3:5, 2:6] = 2      # 8 px road
    m[2, 6] = 2          # touches the road only at a corner: same region (8-connected)
    m[3, 6] = 0
    m[0, 7] = 255        # 2 ignored px
    m[1, 7] = 255
    return m


def test_per_class_pixels_m2_and_percent_leave_ignored_pixels_apart() -> None:
    rep = area_per_class(_mask(), TABLE, Gsd.square(0.5))
    assert [c.id for c in rep.classes] == [0, 1, 2]
    assert [c.pixels for c in rep.classes] == [48 - 7 - 9 - 2, 7, 9]
    assert rep.ignored_px == 2 and rep.unlisted_px == 0 and rep.counted_px == 46
    assert rep.get(1).m2 == pytest.approx(7 * 0.25)
    assert rep.get(1).percent == pytest.approx(100 * 7 / 46)
    assert sum(c.percent for c in rep.classes) == pytest.approx(100.0)
    assert rep.m2(rep.ignored_px) == pytest.approx(0.5)


def test_without_gsd_m2_is_unknown_and_unlisted_ids_are_counted_apart() -> None:
    m = _mask()
    m[5, 0] = 7
    rep = area_per_class(m, TABLE)
    assert all(c.m2 is None for c in rep.classes)
    assert rep.unlisted_px == 1 and rep.get(1).pixels == 7
    assert rep.to_dict()["gsd"] is None


def test_regions_are_eight_connected_with_bbox_and_centroid() -> None:
    m = _mask()
    road = find_regions(m, 2, Gsd.square(0.5), table=TABLE)
    assert road.count == 1 and road.class_name == "road"
    r = road.regions[0]
    assert r.pixels == 9 and r.m2 == pytest.approx(2.25)
    assert r.bbox == (2, 2, 5, 3)
    ys, xs = np.nonzero(m == 2)
    assert r.centroid == pytest.approx((xs.mean(), ys.mean()))
    parking = find_regions(m, 1)
    assert [x.pixels for x in parking.regions] == [6, 1]  # largest first
    assert count_regions(m, [0, 1, 2, 255]) == {0: 1, 1: 2, 2: 1, 255: 1}


def test_minimum_region_in_pixels_and_square_metres() -> None:
    m = _mask()
    by_px = find_regions(m, 1, min_px=2)
    assert by_px.count == 1 and (by_px.left_out, by_px.left_out_px) == (1, 1)
    by_m2 = find_regions(m, 1, Gsd.square(0.5), min_m2=1.5)  # 6 px = 1.5 m² stays, 1 px goes
    assert [x.pixels for x in by_m2.regions] == [6]
    assert find_regions(m, 1, Gsd.square(0.5), min_m2=1.6).count == 0
    with pytest.raises(BadInputError, match="ground sampling distance"):
        find_regions(m, 1, min_m2=1.0)


def test_counter_follows_edits_and_rejects_stale_labels() -> None:
    m = _mask()
    counter = AreaCounter.from_mask(m, TABLE.size)
    before = m[0:3, 0:4].copy()
    m[0:3, 0:4] = 2
    counter.apply_edit(before, m[0:3, 0:4])
    assert np.array_equal(counter.counts, np.bincount(m.ravel(), minlength=len(counter.counts)))
    assert counter.report(TABLE).get(2).pixels == int((m == 2).sum())
    with pytest.raises(ValueError, match="stale"):
        counter.apply_edit(np.full((2, 2), 1, np.uint8), np.zeros((2, 2), np.uint8))
    assert counter.pixels(1) == int((m == 1).sum())  # a refused edit changes nothing
    with pytest.raises(ValueError):
        counter.counts[0] = 5


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_incremental_counts_equal_a_full_recount(data: st.DataObject) -> None:
    h, w = data.draw(st.integers(1, 24)), data.draw(st.integers(1, 24))
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    mask = rng.integers(0, 4, (h, w)).astype(np.uint8)
    counter = AreaCounter.from_mask(mask)
    for _ in range(data.draw(st.integers(1, 8))):
        y0, x0 = data.draw(st.integers(0, h - 1)), data.draw(st.integers(0, w - 1))
        y1, x1 = data.draw(st.integers(y0 + 1, h)), data.draw(st.integers(x0 + 1, w))
        top = data.draw(st.integers(1, 40))  # labels may exceed any seen before
        old = mask[y0:y1, x0:x1].copy()
        brush = rng.random(old.shape) < 0.6
        new = np.where(brush, rng.integers(0, top, old.shape), old).astype(np.uint8)
        mask[y0:y1, x0:x1] = new
        counter.apply_edit(old, new)
    full = np.bincount(mask.ravel())
    got = counter.counts
    assert np.array_equal(got[:len(full)], full) and not got[len(full):].any()


def test_houston_parking_area_and_regions(houston: Path) -> None:
    import scipy.ndimage as ndi

    table = load_classes(houston / "classes.json")
    raw = cv2.imread(str(houston / "masks" / "7677.png"), cv2.IMREAD_UNCHANGED)
    gsd = Gsd.square(HOUSTON_GSD_M)
    rep = area_per_class(raw, table, gsd)
    plain = int(np.count_nonzero(raw == PARKING))
    parking = rep.get(PARKING)
    assert parking.name == "Parking Area - Commercial"
    assert parking.pixels == plain > 0
    assert parking.m2 == pytest.approx(plain * HOUSTON_GSD_M ** 2)
    assert parking.percent == pytest.approx(100 * plain / raw.size)
    regions = find_regions(raw, PARKING, gsd, table=table)
    labels, n = ndi.label(raw == PARKING, structure=np.ones((3, 3), bool))
    sizes = np.bincount(labels.ravel())[1:]
    assert regions.count == n
    assert [r.pixels for r in regions.regions] == sorted(sizes.tolist(), reverse=True)
    assert [r.m2 for r in regions.regions] == pytest.approx(
        [s * HOUSTON_GSD_M ** 2 for s in sorted(sizes.tolist(), reverse=True)])
    biggest = int(np.argmax(sizes)) + 1
    sl = ndi.find_objects(labels)[biggest - 1]
    assert regions.regions[0].bbox == (sl[1].start, sl[0].start, sl[1].stop - sl[1].start,
                                       sl[0].stop - sl[0].start)
    cy, cx = ndi.center_of_mass(labels == biggest)
    assert regions.regions[0].centroid == pytest.approx((cx, cy))
    # every class's region count agrees with the independent labelling too
    vehicles, nv = ndi.label(raw == 4, structure=np.ones((3, 3), bool))
    assert count_regions(raw, [4])[4] == nv


def _write_folder(tmp_path: Path) -> list[Path]:
    a = write_mask(tmp_path / "a.png", _mask())
    b = write_mask(tmp_path / "b.png", np.full((4, 5), 1, np.uint8))
    (tmp_path / "a.pgw").write_text("0.5\n0\n0\n-0.5\n100\n200\n")
    bad = tmp_path / "c.png"
    bad.write_bytes(a.read_bytes()[:40])
    return [a, bad, b]


def test_folder_job_reports_bad_files_and_carries_on(tmp_path: Path) -> None:
    paths = _write_folder(tmp_path)
    steps = []
    job = measure_masks(paths, TABLE, focus=1)
    while True:
        try:
            steps.append(next(job))
        except StopIteration as stop:
            run = stop.value
            break
    assert [s.done for s in steps] == [0, 1, 2, 3] and steps[-1].total == 3
    assert steps[2].error is not None and "c.png" in steps[2].error and "truncated" in steps[2].error
    assert [m.path.name for m in run.items] == ["a.png", "b.png"]
    a, b = run.items
    assert a.area.gsd is not None and a.area.gsd.source == "world file"
    assert a.area.get(1).m2 == pytest.approx(7 * 0.25) and b.area.get(1).m2 is None
    assert a.focus is not None and a.focus.count == 2
    totals = {c.id: c for c in run.totals()}
    assert totals[1].pixels == 7 + 20 and totals[1].m2 is None and totals[1].regions == 3
    assert run.to_dict()["failed"][0]["path"].endswith("c.png")


def test_folder_job_with_given_gsd_and_min_region(tmp_path: Path) -> None:
    paths = _write_folder(tmp_path)
    run = run_job(measure_masks(paths, TABLE, gsd=Gsd.square(1.0), min_m2=2.0))
    a = run.items[0]
    assert a.area.gsd is not None and a.area.gsd.source == "flag"
    assert a.area.get(1).regions == 1  # the 1 m² speck is left out
    totals = {c.id: c for c in run.totals()}
    assert totals[1].m2 == pytest.approx(27.0)
    no_gsd = run_job(measure_masks(paths[2:], TABLE, min_m2=2.0))
    assert no_gsd.items == [] and "no GSD" in no_gsd.failed[0][1]


def test_folder_job_stops_when_cancelled(tmp_path: Path) -> None:
    token = CancelToken()
    job = measure_masks(_write_folder(tmp_path), TABLE, token=token)
    next(job)
    token.cancel()
    with pytest.raises(Cancelled):
        next(job)
