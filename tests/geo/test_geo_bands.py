"""View ▸ Bands… without a window: the default from the colour interpretation, a checked choice per file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.enums import ColorInterp

from seggui.core.errors import BadInputError
from seggui.core.geo.bands import band_facts, band_labels, can_choose, check_bands, save_bands, saved_bands
from seggui.core.geo.ortho_region import frame_picture
from seggui.core.workspace import Workspace

pytestmark = pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")  # no grid needed


def write_tif(path: Path, count: int, interp: list[ColorInterp] | None = None,
              descriptions: list[str] | None = None) -> Path:
    """A small `count`-band uint8 GeoTIFF whose band k is filled with 40 * k."""
    data = np.stack([np.full((8, 10), 40 * (k + 1), np.uint8) for k in range(count)])
    with rasterio.open(path, "w", driver="GTiff", height=8, width=10, count=count, dtype="uint8") as ds:
        ds.write(data)
        if interp:
            ds.colorinterp = interp
        for i, d in enumerate(descriptions or []):
            ds.set_band_description(i + 1, d)
    return path


def test_the_default_follows_the_colour_interpretation_and_labels_name_the_bands(tmp_path: Path) -> None:
    ci = ColorInterp
    bgrn = write_tif(tmp_path / "bgrn.tif", 4, [ci.blue, ci.green, ci.red, ci.undefined], ["", "", "", "nir"])
    assert band_facts(bgrn) == (4, (3, 2, 1))  # red is band 3 in this file
    assert band_labels(bgrn) == ["1 · blue", "2 · green", "3 · red", "4 · nir"]
    plain = write_tif(tmp_path / "plain.tif", 4)
    assert band_facts(plain)[1] == (1, 2, 3)  # nothing said: the first three
    assert can_choose(bgrn) and can_choose(plain)
    assert not can_choose(write_tif(tmp_path / "rgb.tif", 3)) and not can_choose(tmp_path / "none.tif")


def test_a_choice_is_checked_kept_per_file_and_read_with_those_bands(tmp_path: Path) -> None:
    pic = write_tif(tmp_path / "rgbn.tif", 4)
    other = write_tif(tmp_path / "other.tif", 4)
    assert check_bands(["4", 1, 2], 4) == (4, 1, 2)
    for bad in ((5, 1, 2), (0, 1, 2), (1, 2), "abc"):
        with pytest.raises(BadInputError, match="rgbn.tif"):
            check_bands(bad, 4, pic)
    ws = Workspace.create(tmp_path / "ws", "aerial-parking-6")
    assert saved_bands(ws, pic) is None
    with pytest.raises(BadInputError):
        save_bands(ws, pic, (4, 1, 9))
    assert save_bands(ws, pic, (4, 1, 2)) == (4, 1, 2)
    assert saved_bands(ws, pic) == (4, 1, 2) and saved_bands(ws, other) is None
    again = Workspace.open(ws.root)
    assert saved_bands(again, pic) == (4, 1, 2)  # persisted in seggui.json
    rgb = frame_picture(again.root, pic, saved_bands(again, pic))
    assert rgb.shape == (8, 10, 3) and rgb[0, 0].tolist() == [160, 40, 80]  # N, R, G
    assert save_bands(again, pic, (1, 2, 3)) is None  # the default is no entry at all
    assert "bands" not in again.settings
