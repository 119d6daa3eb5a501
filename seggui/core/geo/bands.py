"""Which three bands of a multi-band GeoTIFF the window shows as RGB, kept per source file.

An RGBN survey is shown true colour by default (`raster.default_bands`: the
colour interpretation, else bands 1, 2, 3); an analyst who looks for
vegetation picks N, R, G (false colour) in View ▸ Bands…. The choice lives in
the workspace settings (`bands`: {picture path: [r, g, b]}) so the overview
cache, the full-resolution tiles, new editing regions and the window's runs
over the orthomosaic all read the same bands. Qt-free: the dialog only
shows `band_labels` and hands its answer to `check_bands`/`save_bands`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seggui.core.errors import BadInputError
from seggui.core.geo import require
from seggui.core.geo.raster import default_bands, is_geotiff

SETTING = "bands"


def band_labels(path: str | Path) -> list[str]:
    """One label per band ("4 · nir"): the file's description, else its colour interpretation."""
    with require("rasterio").open(path) as ds:
        out = []
        for i in range(ds.count):
            desc = (ds.descriptions[i] or "").strip()
            interp = str(ds.colorinterp[i].name)
            name = desc or ("" if interp in ("undefined", "gray") and ds.count > 1 else interp)
            out.append(f"{i + 1} · {name}" if name else f"{i + 1}")
        return out


def band_facts(path: str | Path) -> tuple[int, tuple[int, ...]]:
    """(band count, the default RGB bands) of a GeoTIFF."""
    with require("rasterio").open(path) as ds:
        return int(ds.count), default_bands(int(ds.count), [str(c.name) for c in ds.colorinterp])


def can_choose(path: str | Path | None) -> bool:
    """A GeoTIFF with more than three bands (RGBA, RGBN, multispectral): there is a choice to make."""
    if path is None or not is_geotiff(path) or not Path(path).is_file():
        return False
    try:
        return band_facts(path)[0] > 3
    except Exception:  # noqa: BLE001 - an unreadable file offers no choice (opening said why)
        return False


def check_bands(bands: Any, count: int, path: str | Path | None = None) -> tuple[int, int, int]:
    """Three band numbers from 1 to `count`, or a `BadInputError` naming the file and the problem."""
    try:
        chosen = tuple(int(b) for b in bands)
    except (TypeError, ValueError):
        raise BadInputError(path, f"bands must be three band numbers, got {bands!r}") from None
    if len(chosen) != 3 or min(chosen) < 1 or max(chosen) > count:
        raise BadInputError(path, f"bands must be three numbers from 1 to {count}, got {list(chosen)}")
    return chosen[0], chosen[1], chosen[2]


def _key(root: Path, path: str | Path) -> str:
    """The settings key of a picture: its path under the workspace when it is there, else absolute."""
    p = Path(path).resolve()
    try:
        return p.relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def saved_bands(ws: Any, path: str | Path | None) -> tuple[int, ...] | None:
    """The bands chosen for `path` in workspace `ws` (None: the default; a stale choice is ignored)."""
    if ws is None or path is None:
        return None
    value = (ws.settings.get(SETTING) or {}).get(_key(ws.root, path))
    if value is None:
        return None
    try:
        return check_bands(value, band_facts(path)[0], path)
    except Exception:  # noqa: BLE001 - the file changed since (fewer bands): the default again
        return None


def save_bands(ws: Any, path: str | Path, bands: Any) -> tuple[int, ...] | None:
    """Keep a checked choice for `path` (the default is stored as no entry); returns what applies now."""
    count, default = band_facts(path)
    chosen: tuple[int, ...] | None = check_bands(bands, count, path)
    if chosen == default:
        chosen = None
    table = dict(ws.settings.get(SETTING) or {})
    key = _key(ws.root, path)
    if chosen is None:
        table.pop(key, None)
    else:
        table[key] = list(chosen)
    ws.set_setting(SETTING, table or None)
    return chosen
